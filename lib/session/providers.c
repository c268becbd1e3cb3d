/*
 * providers.c — the generic side of the provider slots and the caller
 * interface: freeing through the ops table (lib/vagent.h "providers").
 */
#include "core/internal.h"

void vagent_stt_free(struct vagent_stt *p)
{
	if (p && p->ops && p->ops->free)
		p->ops->free(p);
}

void vagent_brain_free(struct vagent_brain *p)
{
	if (p && p->ops && p->ops->free)
		p->ops->free(p);
}

void vagent_tts_free(struct vagent_tts *p)
{
	if (p && p->ops && p->ops->free)
		p->ops->free(p);
}

void vagent_tools_free(struct vagent_tools *p)
{
	if (p && p->ops && p->ops->free)
		p->ops->free(p);
}

void vagent_caller_free(struct vagent_caller *c)
{
	if (c && c->ops && c->ops->free)
		c->ops->free(c);
}
