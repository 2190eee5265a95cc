/* stackwalk.c — the preload's stack walker: per-return-address rules in a
 * lock-free cache, CFI read only on a miss (x86-64; elsewhere every walk
 * gives up and track.c uses _Unwind_Backtrace).
 *
 * DESIGN. A walk starts from this function's own registers (RIP, RSP, RBP
 * read by inline asm) and steps frame by frame: the rule of the frame's
 * return address (stackwalk.h) gives the caller's CFA, return address (at
 * CFA-8) and RBP. Rules come from a direct-mapped cache of 4096 64-bit
 * words in static storage (32 KiB; a page is resident only once touched):
 * each word packs the address's high bits as a tag with the rule, and is
 * written and read as one relaxed atomic, so a reader sees a whole entry or
 * another whole entry, never a torn one, and the tag check rejects an entry
 * for another address. Racing writers merely overwrite each other; no lock.
 * On a miss, libgcc_s's _Unwind_Find_FDE finds the FDE (the same lookup
 * _Unwind_Backtrace makes: registered frames, then glibc's lock-free
 * _dl_find_object and the object's .eh_frame_hdr table) and cfi.c runs its
 * instructions up to the address. A rule too large to pack, or for code
 * outside every loaded object (a JIT's), is used but not cached; dlclose
 * empties the cache (interpose.c), since an unloaded object's addresses
 * may be reused.
 *
 * Safety: at most max + 32 steps; each CFA must lie above the previous
 * stack pointer (and within 1 GiB of it), so a walk only moves up the
 * stack; a zero return address or an outermost frame (return address
 * undefined: _start, clone3) ends it. Anything the rule cannot express
 * gives up (-1). The loads are those libgcc's walk makes from the same
 * CFI: the return address slot and the saved RBP of each frame.
 */
#include "stackwalk.h"

#include <dlfcn.h>
#include <stdatomic.h>

#if defined(__x86_64__)

/* libgcc_s's FDE lookup (exported since GCC_3.0; not in <unwind.h>): the
 * FDE covering pc, or NULL; bases->func is the FDE's initial location. */
struct dwarf_eh_bases {
    void *tbase;
    void *dbase;
    void *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

/* ---- the rule cache ---- */

#define CACHE_BITS 12
#define CACHE_MASK ((1u << CACHE_BITS) - 1)

/* Entry layout (bit 0 first): valid 1, outermost 1, cfa_is_rbp 1,
 * rbp_saved 1, -rbp_off/8 6, cfa_off/8 19, tag = ra >> 12 35 (user
 * addresses are below 2^47). The slot mixes the tag into the low 12 bits,
 * so tag and slot together determine ra. */
#define E_VALID 1u
#define E_OUTERMOST 2u
#define E_CFA_RBP 4u
#define E_RBP_SAVED 8u
#define E_RBP_SHIFT 4
#define E_RBP_BITS 6
#define E_CFA_SHIFT 10
#define E_CFA_BITS 19
#define E_TAG_SHIFT 29

static _Atomic uint64_t rule_cache[1u << CACHE_BITS];

static inline unsigned cache_slot(uintptr_t ra)
{
    return (unsigned)((ra ^ (ra >> 12) ^ (ra >> 24)) & CACHE_MASK);
}

/* The packed entry for ra's rule, or 0 when it does not fit. */
static uint64_t pack(uintptr_t ra, const mv_heap_unwind_rule *r)
{
    if (ra >> 47)
        return 0;
    uint64_t e = E_VALID | ((uint64_t)(ra >> 12) << E_TAG_SHIFT);
    if (r->outermost)
        return e | E_OUTERMOST;
    if (r->cfa_off < 0 || (r->cfa_off & 7) || (r->cfa_off >> 3) >= (1 << E_CFA_BITS))
        return 0;
    e |= (uint64_t)(r->cfa_off >> 3) << E_CFA_SHIFT;
    if (r->cfa_is_rbp)
        e |= E_CFA_RBP;
    if (r->rbp_saved) {
        int64_t k = -r->rbp_off;
        if (k <= 0 || (k & 7) || (k >> 3) >= (1 << E_RBP_BITS))
            return 0;
        e |= E_RBP_SAVED | ((uint64_t)(k >> 3) << E_RBP_SHIFT);
    }
    return e;
}

static inline void unpack(uint64_t e, mv_heap_unwind_rule *r)
{
    r->outermost = (e & E_OUTERMOST) != 0;
    r->cfa_is_rbp = (e & E_CFA_RBP) != 0;
    r->cfa_off = (int64_t)((e >> E_CFA_SHIFT) & ((1u << E_CFA_BITS) - 1)) << 3;
    r->rbp_saved = (e & E_RBP_SAVED) != 0;
    r->rbp_off = -((int64_t)((e >> E_RBP_SHIFT) & ((1u << E_RBP_BITS) - 1)) << 3);
}

static inline int cache_get(uintptr_t ra, mv_heap_unwind_rule *r)
{
    uint64_t e = atomic_load_explicit(&rule_cache[cache_slot(ra)], memory_order_relaxed);
    if (!(e & E_VALID) || (e >> E_TAG_SHIFT) != (uint64_t)(ra >> 12) || (ra >> 47))
        return 0;
    unpack(e, r);
    return 1;
}

int mv__heap_unwind_cache_lookup(uintptr_t ra, mv_heap_unwind_rule *out)
{
    return cache_get(ra, out);
}

void mv__heap_unwind_cache_clear(void)
{
    for (unsigned i = 0; i <= CACHE_MASK; i++)
        atomic_store_explicit(&rule_cache[i], 0, memory_order_relaxed);
}

/* The rule for return address ra (the code at ra - 1): 0 and *r, or -1. */
static int rule_for(uintptr_t ra, mv_heap_unwind_rule *r)
{
    if (__builtin_expect(cache_get(ra, r), 1))
        return 0;
    struct dwarf_eh_bases bases;
    const void *fde = _Unwind_Find_FDE((void *)(ra - 1), &bases);
    if (!fde || mv__heap_cfi_rule(fde, (uintptr_t)bases.func, ra - 1, r) != 0)
        return -1;
    /* Cached only for code of a loaded object: code a JIT registered
     * (__register_frame) may be freed and its addresses reused unseen,
     * while an object's unloading passes through dlclose, which clears the
     * cache (interpose.c). */
    uint64_t e = pack(ra, r);
#ifdef DLFO_EH_SEGMENT_TYPE /* glibc >= 2.35; older: nothing is cached */
    struct dl_find_object obj;
    if (e && _dl_find_object((void *)(ra - 1), &obj) == 0)
        atomic_store_explicit(&rule_cache[cache_slot(ra)], e, memory_order_relaxed);
#else
    (void)e;
#endif
    return 0;
}

/* ---- the walk ---- */

#define MAX_FRAME_BYTES ((uintptr_t)1 << 30)

/* Reads the stack slots the CFI names: not instrumented, the slots of
 * other frames are never poisoned, but their neighbours may be. */
__attribute__((noinline, no_sanitize_address)) int
mv__heap_unwind(uintptr_t *out, int max, uintptr_t skip_lo, uintptr_t skip_hi)
{
    uintptr_t pc, sp, fp;
    /* pc: the address after the lea, inside this function, whose row
     * describes sp as read here (no stack change inside the asm). */
    __asm__ volatile("leaq 0(%%rip), %0\n\t"
                     "movq %%rsp, %1\n\t"
                     "movq %%rbp, %2"
                     : "=r"(pc), "=r"(sp), "=r"(fp));
    int n = 0, skipping = 1;
    for (int steps = 0; steps < max + 32 && n < max; steps++) {
        mv_heap_unwind_rule r;
        if (rule_for(pc, &r) != 0)
            return -1;
        if (r.outermost)
            break;
        uintptr_t cfa = (r.cfa_is_rbp ? fp : sp) + (uintptr_t)r.cfa_off;
        if (cfa < sp + 8 || cfa - sp > MAX_FRAME_BYTES)
            break;
        uintptr_t ra = *(const uintptr_t *)(cfa - 8);
        if (r.rbp_saved)
            fp = *(const uintptr_t *)(cfa + (uintptr_t)r.rbp_off);
        sp = cfa;
        pc = ra;
        if (!ra)
            break;
        if (skipping) {
            if (ra >= skip_lo && ra < skip_hi)
                continue;
            skipping = 0;
        }
        out[n++] = ra;
    }
    return n;
}

#else /* not x86-64: the caller uses _Unwind_Backtrace */

int mv__heap_unwind(uintptr_t *out, int max, uintptr_t skip_lo, uintptr_t skip_hi)
{
    (void)out, (void)max, (void)skip_lo, (void)skip_hi;
    return -1;
}

int mv__heap_unwind_cache_lookup(uintptr_t ra, mv_heap_unwind_rule *out)
{
    (void)ra, (void)out;
    return 0;
}

void mv__heap_unwind_cache_clear(void)
{
}

#endif
