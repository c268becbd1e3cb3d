/*
 * sim_req.c — the request list the simulated providers share: requests
 * ended by a callback, cancel() or stop() are freed by a sweep once none
 * of the provider's callbacks is running (docs/simulation.md).
 */
#include "sim/sim_int.h"

void vagent__sim_req_add(struct vagent__sim_reqs *l, struct vagent__sim_req *r)
{
	r->next = l->head;
	l->head = r;
}

void vagent__sim_reqs_cancel(struct vagent__sim_reqs *l, uint64_t id)
{
	struct vagent__sim_req *r;

	for (r = l->head; r; r = r->next)
		if (r->id == id)
			vagent__sim_req_end(r);
}

void vagent__sim_reqs_end_all(struct vagent__sim_reqs *l)
{
	struct vagent__sim_req *r;

	for (r = l->head; r; r = r->next)
		vagent__sim_req_end(r);
}

bool vagent__sim_reqs_sweep(struct vagent__sim_reqs *l,
			    void (*free_req)(struct vagent__sim_req *r))
{
	struct vagent__sim_req **pp = &l->head;

	if (l->busy)
		return false;
	while (*pp) {
		struct vagent__sim_req *r = *pp;

		if (r->dead || l->freeing) {
			*pp = r->next;
			free_req(r);
		} else {
			pp = &r->next;
		}
	}
	return l->freeing;
}
