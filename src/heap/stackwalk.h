/* stackwalk.h — the preload's own stack walker (x86-64) and the call-frame
 * information (CFI) reader behind it.
 *
 * Why: libgcc's _Unwind_Backtrace interprets every frame's CFI afresh,
 * ~1.3-1.9k instructions a frame, which was most of a sample's cost
 * (bench/heap/README.md, "Overhead, fourth pass"). The CFI of a return
 * address never changes, so the walker keeps, per return address, the one
 * rule it needs — where the caller's CFA, return address and RBP are — in
 * a fixed-size lock-free cache, and reads the CFI only on a miss.
 *
 * The rule covers what compilers emit for ordinary x86-64 call sites: CFA =
 * RSP or RBP + offset, return address at CFA-8, RBP saved at CFA+k or left
 * alone. Anything else (CFA expressions, signal frames, a return address
 * kept elsewhere, a frame with no FDE) makes the walk give up, and the
 * caller falls back to _Unwind_Backtrace: results are never worse than
 * libgcc's and, where the walker answers, they are the same frames.
 *
 * Facts used, with their sources: the .eh_frame CIE/FDE layout and the
 * augmentation letters z, R, P, L, S (Linux Standard Base Core, "Exception
 * Frames"); the DW_CFA_* instructions and their operands (DWARF 4, section
 * 6.4.2 and table 7.23; DW_CFA_GNU_args_size and
 * DW_CFA_GNU_negative_offset_extended from the LSB); the DW_EH_PE_* pointer
 * encodings (LSB, "DWARF Exception Header Encoding"); the x86-64 DWARF
 * register numbers, RBP 6, RSP 7, return address 16 (System V x86-64 psABI,
 * "DWARF Register Number Mapping"); _Unwind_Find_FDE and struct
 * dwarf_eh_bases, libgcc_s's exported FDE lookup (GCC_3.0).
 */
#ifndef MV_HEAP_STACKWALK_H
#define MV_HEAP_STACKWALK_H

#include <stddef.h>
#include <stdint.h>

/* What one frame needs to find its caller. */
typedef struct mv_heap_unwind_rule {
    int cfa_is_rbp;     /* CFA = RBP + cfa_off (else RSP + cfa_off) */
    int64_t cfa_off;
    int rbp_saved;      /* the caller's RBP is at CFA + rbp_off (else unchanged) */
    int64_t rbp_off;
    int outermost;      /* return address undefined: the last frame */
} mv_heap_unwind_rule;

/* The rule in force at code address `target` (a return address - 1) of the
 * function the FDE at `fde` (its length field) describes, whose first
 * instruction is at `func`: parses the FDE and its CIE and runs the CIE's
 * and the FDE's CFA instructions up to target. 0 and *out filled, or -1
 * when the CFI says anything outside the rule's reach (see the top of the
 * file) or is malformed. Reads only [fde, end of FDE] and its CIE; the FDE
 * must come from a loaded object (or a test's buffer). Pure: no allocation,
 * no lock, no syscall; any thread, async-signal-safe. */
int mv__heap_cfi_rule(const uint8_t *fde, uintptr_t func, uintptr_t target,
                      mv_heap_unwind_rule *out);

/* Walks the calling thread's stack from the caller of this function,
 * storing return addresses (leaf first, as _Unwind_GetIP reports them) in
 * out[0..max); leading frames whose address is in [skip_lo, skip_hi) are
 * left out. Returns the number stored, or -1 when the walk gave up (see
 * the top of the file; also on any architecture but x86-64): then nothing
 * useful is in out and the caller uses _Unwind_Backtrace. Stops at a zero
 * return address, an outermost frame, max frames, or a CFA not above the
 * previous stack pointer. No allocation, no lock, no syscall; any thread,
 * including a signal handler (as async-signal-safe as _Unwind_Find_FDE:
 * lock-free through glibc's _dl_find_object unless the program registered
 * frames itself). */
int mv__heap_unwind(uintptr_t *out, int max, uintptr_t skip_lo, uintptr_t skip_hi);

/* The rule cache. lookup (for tests): 1 and *out filled when ra's rule is
 * cached. clear: empties it; called after every successful dlclose, as an
 * unloaded object's addresses may be reused (a walk racing a clear merely
 * misses or re-adds entries of objects still loaded). Any thread;
 * lock-free. */
int mv__heap_unwind_cache_lookup(uintptr_t ra, mv_heap_unwind_rule *out);
void mv__heap_unwind_cache_clear(void);

#endif /* MV_HEAP_STACKWALK_H */
