#!/bin/sh
# doc-recipes.sh - every recipe of doc/ is run by a test, word for word:
# each ```sh block of doc/*.md follows a "<!-- recipe: NAME -->" line, no
# NAME is used twice, and some test under tests/ runs it (run_recipe NAME,
# tests/integration/doc-recipe.sh). Command synopses and output are plain
# ``` blocks, not recipes.
set -u
fail=0
names=
for doc in "$top_srcdir"/doc/*.md; do
	d=doc/${doc##*/}
	# "LINE NAME" per ```sh block; NAME "-" when no marker precedes it
	blocks=$(awk '
		/^<!-- recipe: .* -->$/ { name = $3; next }
		/^```sh$/ && !inside { print NR, (name == "" ? "-" : name) }
		/^```/ { inside = !inside }
		!/^$/ { name = "" }
	' "$doc")
	[ -n "$blocks" ] || continue
	while read -r line name; do
		if [ "$name" = - ]; then
			echo "FAIL: $d:$line: a \`\`\`sh block with no <!-- recipe: NAME --> line before it"
			fail=1
			continue
		fi
		case " $names " in
		*" $name "*)
			echo "FAIL: $d:$line: recipe name '$name' used twice"
			fail=1
			continue ;;
		esac
		names="$names $name"
		if ! grep -rqE "run_recipe $name( |\$)" "$top_srcdir/tests"; then
			echo "FAIL: $d:$line: no test runs recipe '$name' (run_recipe $name)"
			fail=1
			continue
		fi
		echo "ok: $d:$line recipe $name is run by $(grep -rlE "run_recipe $name( |\$)" "$top_srcdir/tests" | sed "s|^$top_srcdir/||" | tr '\n' ' ')"
	done <<EOT
$blocks
EOT
done
[ -n "$names" ] || { echo "FAIL: no recipe found in doc/"; exit 1; }
exit $fail
