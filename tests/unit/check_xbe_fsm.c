/*
 * check_xbe_fsm - the pure half of the xenbus backend framework
 * (lib/xenbus-be-fsm.c): the walker over the legal edges and the decision
 * of a device's next step, driven through a model device whose driver
 * hooks record what they were called for. No xenstore: the I/O side
 * (tests/integration/check_xenbus_be) is tested against our xenstored.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "xenbus-be-fsm.h"

#define INI XenbusStateInitialising
#define IWT XenbusStateInitWait
#define IED XenbusStateInitialised
#define CON XenbusStateConnected
#define CLG XenbusStateClosing
#define CLD XenbusStateClosed
#define UNK XenbusStateUnknown

static const enum xenbus_state be_states[] = { INI, IWT, CON, CLG, CLD };
#define NBE (sizeof(be_states) / sizeof(be_states[0]))

/* A device as xenbus-be.c keeps it, with recording hooks. */
struct model {
	struct xbe_fsm_in f;
	int async;      /* disconnect() returns 1 */
	int connect_rc; /* what connect() returns */
	char calls[32]; /* C connect, D disconnect, R remove, F free */
	char trail[64]; /* every state entered, as digits */
	int freed;
};

static void note(char *buf, size_t len, char c)
{
	size_t n = strlen(buf);

	ck_assert_msg(n + 1 < len, "too many calls: %s", buf);
	buf[n] = c;
	buf[n + 1] = '\0';
}

static int m_connect(void *arg)
{
	struct model *m = arg;

	note(m->calls, sizeof(m->calls), 'C');
	return m->connect_rc;
}

static int m_disconnect(void *arg)
{
	struct model *m = arg;

	note(m->calls, sizeof(m->calls), 'D');
	return m->async;
}

static void m_enter(void *arg, enum xenbus_state from, enum xenbus_state to)
{
	struct model *m = arg;

	ck_assert_msg(xbe_fsm_edge(from, to), "walked an illegal edge %s -> %s",
		      xbe_state_name(from), xbe_state_name(to));
	note(m->trail, sizeof(m->trail), (char)('0' + to));
}

static const struct xbe_fsm_hooks m_hooks = { m_connect, m_disconnect, m_enter };

/* m_eval - what evaluate() in xenbus-be.c does with the answer. */
static void m_eval(struct model *m)
{
	struct xbe_fsm_out o;

	ck_assert_msg(!m->freed, "an event reached a freed device");
	o = xbe_fsm_decide(&m->f);
	if (o.target != m->f.be &&
	    xbe_fsm_walk(&m->f.be, &m->f.disconnect_pending, o.target, &m_hooks,
			 m) < 0)
		return;
	if (o.actions & XBE_ACT_REMOVE) {
		ck_assert_msg(!m->f.removed, "remove() twice");
		note(m->calls, sizeof(m->calls), 'R');
		m->f.removed = true;
	}
	if (o.actions & XBE_ACT_FREE) {
		note(m->calls, sizeof(m->calls), 'F');
		m->freed = 1;
	}
}

enum ev {
	EV_FE,
	EV_OFFLINE,
	EV_DIR_GONE,
	EV_DISC_DONE
};

static void m_event(struct model *m, enum ev ev, enum xenbus_state fe)
{
	switch (ev) {
	case EV_FE:
		m->f.fe = fe;
		break;
	case EV_OFFLINE:
		m->f.online = false;
		break;
	case EV_DIR_GONE:
		m->f.dir_gone = true;
		break;
	case EV_DISC_DONE:
		if (!m->f.disconnect_pending)
			return; /* xbe_disconnected() ignores it */
		m->f.disconnect_pending = false;
		break;
	}
	m_eval(m);
}

/* The frontend state each backend state is typically seen with. */
static enum xenbus_state usual_fe(enum xenbus_state be)
{
	switch (be) {
	case INI:
		return UNK;
	case IWT:
		return XenbusStateInitialising;
	case CON:
		return CON;
	case CLG:
		return CLG;
	default:
		return CLD;
	}
}

static void m_init(struct model *m, enum xenbus_state be)
{
	memset(m, 0, sizeof(*m));
	m->f.be = be;
	m->f.fe = usual_fe(be);
	m->f.online = true;
}

/*
 * The frontend moves to each value (online, directory there, nothing
 * pending): the backend's next state and the driver's calls, per backend
 * state. Values 7 and 8 (Reconfiguring/Reconfigured) are not supported
 * and count as Closed.
 */
struct fe_row {
	enum xenbus_state be;
	struct {
		enum xenbus_state next;
		const char *calls;
	} on[9]; /* by the frontend's new state, Unknown..Reconfigured */
};

static const struct fe_row fe_table[] = {
	/* probing: the frontend is not watched yet, nothing moves */
	{ INI,
	  { { INI, "" },
	    { INI, "" },
	    { INI, "" },
	    { INI, "" },
	    { INI, "" },
	    { INI, "" },
	    { INI, "" },
	    { INI, "" },
	    { INI, "" } } },
	{ IWT,
	  { { IWT, "" },
	    { IWT, "" },
	    { IWT, "" },
	    { CON, "C" },
	    { CON, "C" },
	    { CLG, "" },
	    { CLD, "" },
	    { CLD, "" },
	    { CLD, "" } } },
	{ CON,
	  { { CLD, "DR" },
	    { CON, "" },
	    { CON, "" },
	    { CON, "" },
	    { CON, "" },
	    { CLG, "D" },
	    { CLD, "D" },
	    { CLD, "D" },
	    { CLD, "D" } } },
	{ CLG,
	  { { CLD, "R" },
	    { CLG, "" },
	    { CLG, "" },
	    { CLG, "" },
	    { CLG, "" },
	    { CLG, "" },
	    { CLD, "" },
	    { CLD, "" },
	    { CLD, "" } } },
	{ CLD,
	  { { CLD, "R" },
	    { IWT, "" },
	    { CLD, "" },
	    { CLD, "" },
	    { CLD, "" },
	    { CLD, "" },
	    { CLD, "" },
	    { CLD, "" },
	    { CLD, "" } } },
};

START_TEST(frontend_change_from_each_state)
{
	const struct fe_row *row = &fe_table[_i / 9];
	enum xenbus_state fe = (enum xenbus_state)(_i % 9);
	struct model m;

	m_init(&m, row->be);
	m_event(&m, EV_FE, fe);
	ck_assert_msg(m.f.be == row->on[fe].next &&
			      !strcmp(m.calls, row->on[fe].calls),
		      "%s, frontend -> %s: got %s \"%s\", want %s \"%s\"",
		      xbe_state_name(row->be), xbe_state_name(fe),
		      xbe_state_name(m.f.be), m.calls,
		      xbe_state_name(row->on[fe].next), row->on[fe].calls);
	ck_assert(!m.freed);
}
END_TEST

/* The toolstack's events and the driver's, from each backend state (the
 * frontend in its usual state there). */
struct ev_row {
	enum xenbus_state be;
	int pending; /* a disconnect in flight before the event */
	enum ev ev;
	enum xenbus_state next;
	const char *calls;
};

static const struct ev_row ev_table[] = {
	/* online=0: close now, remove once the frontend let go */
	{ INI, 0, EV_OFFLINE, CLD, "R" },
	{ IWT, 0, EV_OFFLINE, CLD, "R" },
	{ CON, 0, EV_OFFLINE, CLG, "D" },
	{ CLG, 0, EV_OFFLINE, CLG, "" },
	{ CLD, 0, EV_OFFLINE, CLD, "R" },
	/* the backend directory removed: close, remove, free */
	{ INI, 0, EV_DIR_GONE, CLD, "RF" },
	{ IWT, 0, EV_DIR_GONE, CLD, "RF" },
	{ CON, 0, EV_DIR_GONE, CLD, "DRF" },
	{ CLG, 0, EV_DIR_GONE, CLD, "RF" },
	{ CLD, 0, EV_DIR_GONE, CLD, "RF" },
	/* ... but not while a disconnect is in flight */
	{ CLG, 1, EV_DIR_GONE, CLG, "" },
	/* the driver's disconnect completes: the frontend (Closing) is
	 * still closing, so the backend stays Closing */
	{ CLG, 1, EV_DISC_DONE, CLG, "" },
	/* no disconnect in flight: nothing to complete, nothing moves */
	{ INI, 0, EV_DISC_DONE, INI, "" },
	{ IWT, 0, EV_DISC_DONE, IWT, "" },
	{ CON, 0, EV_DISC_DONE, CON, "" },
	{ CLG, 0, EV_DISC_DONE, CLG, "" },
	{ CLD, 0, EV_DISC_DONE, CLD, "" },
};

START_TEST(toolstack_and_driver_events_from_each_state)
{
	const struct ev_row *row = &ev_table[_i];
	struct model m;

	m_init(&m, row->be);
	m.f.disconnect_pending = row->pending;
	m_event(&m, row->ev, UNK);
	ck_assert_msg(m.f.be == row->next && !strcmp(m.calls, row->calls),
		      "row %d from %s: got %s \"%s\", want %s \"%s\"", _i,
		      xbe_state_name(row->be), xbe_state_name(m.f.be), m.calls,
		      xbe_state_name(row->next), row->calls);
}
END_TEST

/* A pending disconnect holds everything, whatever the frontend does. */
START_TEST(pending_disconnect_holds_closing)
{
	struct model m;

	m_init(&m, CON);
	m.async = 1;
	m_event(&m, EV_FE, CLD);
	ck_assert_int_eq(m.f.be, CLG);
	ck_assert_str_eq(m.calls, "D");
	for (int fe = 0; fe <= XenbusStateReconfigured; fe++) {
		m_event(&m, EV_FE, (enum xenbus_state)fe);
		ck_assert_int_eq(m.f.be, CLG);
	}
	m_event(&m, EV_FE, CLD);
	m_event(&m, EV_DISC_DONE, UNK);
	ck_assert_int_eq(m.f.be, CLD);
	ck_assert_str_eq(m.calls, "D");
	ck_assert_str_eq(m.trail, "56");
}
END_TEST

/* Two watches fire for one change: the second sees the state the first
 * reached and does nothing again. */
START_TEST(second_watch_does_not_connect_twice)
{
	struct model m;

	m_init(&m, IWT);
	m_event(&m, EV_FE, CON);
	m_event(&m, EV_FE, CON);
	m_event(&m, EV_FE, IED);
	ck_assert_int_eq(m.f.be, CON);
	ck_assert_str_eq(m.calls, "C");
	ck_assert_str_eq(m.trail, "4");
}
END_TEST

/* The frontend says Connected then Closing while the probe still runs:
 * once the probe is over the backend sees Closing, never connects. */
START_TEST(frontend_closing_while_probing_never_connects)
{
	struct model m;

	m_init(&m, INI);
	m_event(&m, EV_FE, CON);
	m_event(&m, EV_FE, CLG);
	ck_assert_int_eq(m.f.be, INI);
	/* probe() ok: xenbus-be.c walks to InitWait, then decides */
	ck_assert_int_eq(xbe_fsm_walk(&m.f.be, &m.f.disconnect_pending, IWT,
				      &m_hooks, &m),
			 0);
	m_eval(&m);
	ck_assert_int_eq(m.f.be, CLG);
	ck_assert_str_eq(m.calls, "");
	m_event(&m, EV_FE, CLD);
	ck_assert_int_eq(m.f.be, CLD);
	ck_assert_str_eq(m.calls, "");
}
END_TEST

/* The connect fails (Closing, error written); the frontend's second
 * Connected event must not retry it: it has to close first. */
START_TEST(failed_connect_is_not_retried_until_frontend_closes)
{
	struct model m;

	m_init(&m, IWT);
	m.connect_rc = -EIO;
	m_event(&m, EV_FE, CON);
	ck_assert_int_eq(m.f.be, CLG);
	m_event(&m, EV_FE, CON);
	ck_assert_int_eq(m.f.be, CLG);
	ck_assert_str_eq(m.calls, "C");
	m_event(&m, EV_FE, CLD);
	m_event(&m, EV_FE, XenbusStateInitialising);
	ck_assert_int_eq(m.f.be, IWT);
	m.connect_rc = 0;
	m_event(&m, EV_FE, CON);
	ck_assert_int_eq(m.f.be, CON);
	ck_assert_str_eq(m.calls, "CC");
}
END_TEST

/* The toolstack removes the directory while the disconnect is in flight:
 * remove and free come once, after the disconnect completed. */
START_TEST(dir_removed_during_disconnect_frees_once_after_it)
{
	struct model m;

	m_init(&m, CON);
	m.async = 1;
	m_event(&m, EV_FE, CLG);
	ck_assert_str_eq(m.calls, "D");
	m_event(&m, EV_DIR_GONE, UNK);
	m_event(&m, EV_FE, UNK); /* the frontend's directory goes too */
	m_event(&m, EV_OFFLINE, UNK);
	ck_assert_str_eq(m.calls, "D");
	ck_assert(!m.freed);
	m_event(&m, EV_DISC_DONE, UNK);
	ck_assert_str_eq(m.calls, "DRF");
	ck_assert_int_eq(m.f.be, CLD);
	ck_assert(m.freed);
}
END_TEST

/* libxl's detach: online=0 (and Closing for the frontend), the frontend
 * closes, the device is removed; the directory goes: freed. */
START_TEST(libxl_detach_removes_then_frees)
{
	struct model m;

	m_init(&m, CON);
	m_event(&m, EV_OFFLINE, UNK);
	ck_assert_int_eq(m.f.be, CLG);
	m_event(&m, EV_FE, CLG);
	ck_assert_str_eq(m.calls, "D");
	m_event(&m, EV_FE, CLD);
	ck_assert_int_eq(m.f.be, CLD);
	ck_assert_str_eq(m.calls, "DR");
	m_event(&m, EV_FE, XenbusStateInitialising); /* no reconnect */
	ck_assert_int_eq(m.f.be, CLD);
	m_event(&m, EV_DIR_GONE, UNK);
	ck_assert_str_eq(m.calls, "DRF");
}
END_TEST

/* ---- the walker ---- */

/* Shortest legal path lengths, rows from, columns to, in be_states[]
 * order; -1: unreachable (Initialising is never a target). */
static const int dist[NBE][NBE] = {
	/*        INI IWT CON CLG CLD */
	/* INI */ { 0, 1, 2, 2, 1 },
	/* IWT */ { -1, 0, 1, 1, 2 },
	/* CON */ { -1, 3, 0, 1, 2 },
	/* CLG */ { -1, 2, 3, 0, 1 },
	/* CLD */ { -1, 1, 2, 2, 0 },
};

START_TEST(every_path_is_shortest_and_legal)
{
	enum xenbus_state from = be_states[_i / NBE], to = be_states[_i % NBE];
	enum xenbus_state s = from;
	int want = dist[_i / NBE][_i % NBE], steps = 0;

	if (want < 0) {
		ck_assert_int_eq(xbe_fsm_next_hop(from, to), -EINVAL);
		return;
	}
	while (s != to) {
		int next = xbe_fsm_next_hop(s, to);

		ck_assert_msg(next >= 0, "%s -> %s: stuck at %s",
			      xbe_state_name(from), xbe_state_name(to),
			      xbe_state_name(s));
		ck_assert_msg(xbe_fsm_edge(s, (enum xenbus_state)next),
			      "%s -> %s is no edge", xbe_state_name(s),
			      xbe_state_name((enum xenbus_state)next));
		s = (enum xenbus_state)next;
		ck_assert_int_le(++steps, want);
	}
	ck_assert_int_eq(steps, want);
	ck_assert_int_eq(xbe_fsm_next_hop(to, to), to);
}
END_TEST

/* The driver's hooks on the walks that cross Connected. */
static const struct walk_row {
	enum xenbus_state from, to;
	const char *calls, *trail;
} walk_table[] = {
	{ INI, CON, "C", "24" },  { CLD, CON, "C", "24" },
	{ CON, CLD, "D", "56" },  { CON, IWT, "D", "562" },
	{ CLG, CON, "C", "624" }, { IWT, CLD, "", "56" },
	{ INI, CLD, "", "6" },
};

START_TEST(walk_calls_hooks_on_the_right_edges)
{
	const struct walk_row *w = &walk_table[_i];
	struct model m;

	m_init(&m, w->from);
	ck_assert_int_eq(xbe_fsm_walk(&m.f.be, &m.f.disconnect_pending, w->to,
				      &m_hooks, &m),
			 0);
	ck_assert_int_eq(m.f.be, w->to);
	ck_assert_str_eq(m.calls, w->calls);
	ck_assert_str_eq(m.trail, w->trail);
}
END_TEST

START_TEST(walk_stops_at_closing_for_pending_disconnect)
{
	struct model m;

	m_init(&m, CON);
	m.async = 1;
	ck_assert_int_eq(xbe_fsm_walk(&m.f.be, &m.f.disconnect_pending, CLD,
				      &m_hooks, &m),
			 -EINPROGRESS);
	ck_assert_int_eq(m.f.be, CLG);
	ck_assert(m.f.disconnect_pending);
	ck_assert_str_eq(m.trail, "5");
}
END_TEST

START_TEST(walk_turns_to_closing_when_connect_fails)
{
	struct model m;

	m_init(&m, IWT);
	m.connect_rc = -EPROTO;
	ck_assert_int_eq(xbe_fsm_walk(&m.f.be, &m.f.disconnect_pending, CON,
				      &m_hooks, &m),
			 -EPROTO);
	ck_assert_int_eq(m.f.be, CLG);
	ck_assert_str_eq(m.calls, "C");
	ck_assert_str_eq(m.trail, "5");
}
END_TEST

/* Targets no walk may reach: refused with -EINVAL, nothing called. */
START_TEST(illegal_targets_are_refused)
{
	static const int bad[] = { XenbusStateUnknown,
				   XenbusStateInitialising,
				   XenbusStateInitialised,
				   XenbusStateReconfiguring,
				   XenbusStateReconfigured,
				   99,
				   -1 };
	enum xenbus_state from = be_states[_i];

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct model m;

		if (bad[i] == XenbusStateInitialising && from == INI)
			continue; /* already there: nothing to refuse */
		m_init(&m, from);
		ck_assert_int_eq(xbe_fsm_walk(&m.f.be, &m.f.disconnect_pending,
					      (enum xenbus_state)bad[i],
					      &m_hooks, &m),
				 -EINVAL);
		ck_assert_int_eq(m.f.be, from);
		ck_assert_str_eq(m.calls, "");
		ck_assert_str_eq(m.trail, "");
	}
	/* nor from a state the backend is never in */
	ck_assert_int_eq(xbe_fsm_next_hop(XenbusStateInitialised, CON), -EINVAL);
	ck_assert(!xbe_fsm_edge(CLD, CLG));
	ck_assert(!xbe_fsm_edge(CON, IWT));
}
END_TEST

static Suite *xbe_fsm_suite(void)
{
	Suite *s = suite_create("xbe_fsm");
	TCase *d = tcase_create("decide");
	TCase *w = tcase_create("walk");

	tcase_add_loop_test(d, frontend_change_from_each_state, 0,
			    (int)(sizeof(fe_table) / sizeof(fe_table[0])) * 9);
	tcase_add_loop_test(d, toolstack_and_driver_events_from_each_state, 0,
			    (int)(sizeof(ev_table) / sizeof(ev_table[0])));
	tcase_add_test(d, pending_disconnect_holds_closing);
	tcase_add_test(d, second_watch_does_not_connect_twice);
	tcase_add_test(d, frontend_closing_while_probing_never_connects);
	tcase_add_test(d, failed_connect_is_not_retried_until_frontend_closes);
	tcase_add_test(d, dir_removed_during_disconnect_frees_once_after_it);
	tcase_add_test(d, libxl_detach_removes_then_frees);
	tcase_add_loop_test(w, every_path_is_shortest_and_legal, 0,
			    (int)(NBE * NBE));
	tcase_add_loop_test(w, walk_calls_hooks_on_the_right_edges, 0,
			    (int)(sizeof(walk_table) / sizeof(walk_table[0])));
	tcase_add_test(w, walk_stops_at_closing_for_pending_disconnect);
	tcase_add_test(w, walk_turns_to_closing_when_connect_fails);
	tcase_add_loop_test(w, illegal_targets_are_refused, 0, (int)NBE);
	suite_add_tcase(s, d);
	suite_add_tcase(s, w);
	return s;
}

CHECK_MAIN(xbe_fsm_suite)
