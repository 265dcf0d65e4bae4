# doc-recipe.sh - sourced by the tests that run a recipe of doc/ word for
# word. A recipe is the ```sh block right after "<!-- recipe: NAME -->"
# in the file $DOC (tests/integration/doc-recipes.sh checks that every
# ```sh block of doc/ has such a name and a test that runs it).
#
#   doc_recipe NAME   print the recipe, as written
#   run_recipe NAME   run it in this shell, from the build directory (its
#                     paths are relative to it, as the docs say)

doc_recipe() {
	awk -v name="$1" '
		$0 == "<!-- recipe: " name " -->" { want = 1; next }
		want && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }
	' "$DOC"
}

run_recipe() {
	r=$(doc_recipe "$1")
	[ -n "$r" ] || fail "$DOC has no recipe '$1'"
	cd "$top_builddir" || fail "cd $top_builddir"
	eval "$r"
}
