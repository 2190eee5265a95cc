/* test_cfi.c — the CFI reader behind the stack walker (src/heap/cfi.c) on
 * hand-built .eh_frame records: the rules of typical prologues and
 * epilogues (CFA offsets, a frame pointer, remember/restore_state,
 * restore), the outermost frame (return address undefined), and every kind
 * of input it must refuse rather than guess: CFA expressions, a signal
 * frame's 'S' augmentation, RBP kept in another register, a target outside
 * the FDE, records cut short. Byte layouts: LSB "Exception Frames"; opcode
 * values: DWARF 4, table 7.23. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "stackwalk.h"

#define FUNC 0x401000u /* the FDE's function start (passed in, as the walker does) */
#define RANGE 0x100u

/* A CIE (version 1, augmentation `aug`, code alignment 1, data alignment
 * -8, return address column 16, 'R' = pcrel|sdata4 when present), its
 * instructions, then an FDE with `fde_insns`; returns the FDE. */
static const uint8_t *build(uint8_t *buf, const char *aug, const uint8_t *cie_insns, size_t ncie,
                            const uint8_t *fde_insns, size_t nfde)
{
    uint8_t *p = buf + 4;
    memset(p, 0, 4); /* CIE id */
    p += 4;
    *p++ = 1;        /* version */
    size_t al = strlen(aug);
    memcpy(p, aug, al + 1);
    p += al + 1;
    *p++ = 1;        /* code alignment factor */
    *p++ = 0x78;     /* data alignment factor: sleb -8 */
    *p++ = 16;       /* return address register */
    if (al && aug[0] == 'z') {
        size_t zlen = 0;
        for (size_t i = 1; i < al; i++)
            zlen += aug[i] == 'R' || aug[i] == 'L' ? 1 : 0;
        *p++ = (uint8_t)zlen;
        for (size_t i = 1; i < al; i++)
            if (aug[i] == 'R')
                *p++ = 0x1b;
            else if (aug[i] == 'L')
                *p++ = 0x1b;
    }
    memcpy(p, cie_insns, ncie);
    p += ncie;
    uint32_t cie_len = (uint32_t)(p - buf - 4);
    memcpy(buf, &cie_len, 4);

    uint8_t *fde = p;
    p += 4;
    uint32_t cie_ptr = (uint32_t)(p - buf);
    memcpy(p, &cie_ptr, 4);
    p += 4;
    int32_t begin = 0, range = RANGE; /* sdata4 each (pcrel; the value is not read) */
    memcpy(p, &begin, 4);
    p += 4;
    memcpy(p, &range, 4);
    p += 4;
    if (al && aug[0] == 'z')
        *p++ = 0; /* FDE augmentation data: none */
    memcpy(p, fde_insns, nfde);
    p += nfde;
    uint32_t fde_len = (uint32_t)(p - fde - 4);
    memcpy(fde, &fde_len, 4);
    memset(p, 0, 4); /* terminator */
    return fde;
}

/* def_cfa r7+8; offset r16 at cfa-8: what gcc's x86-64 CIEs say. */
static const uint8_t std_cie[] = {0x0c, 0x07, 0x08, 0x90, 0x01};

static int rule_at(const uint8_t *fde, unsigned off, mv_heap_unwind_rule *r)
{
    memset(r, 0x55, sizeof *r);
    return mv__heap_cfi_rule(fde, FUNC, FUNC + off, r);
}

static void test_push_pop_offsets(void **state)
{
    (void)state;
    uint8_t buf[256];
    /* push rbx (1 byte); sub $0x20,%rsp (4); ...; add (at 0x40); pop (0x44) */
    static const uint8_t insns[] = {
        0x41, 0x0e, 0x10, 0x83, 0x02,  /* advance 1; cfa_offset 16; rbx at cfa-16 */
        0x44, 0x0e, 0x30,              /* advance 4; cfa_offset 48 */
        0x02, 0x3b, 0x0e, 0x10,        /* advance_loc1 59 (0x40); cfa_offset 16 */
        0x44, 0x0e, 0x08,              /* advance 4 (0x44); cfa_offset 8 */
    };
    const uint8_t *fde = build(buf, "zR", std_cie, sizeof std_cie, insns, sizeof insns);
    mv_heap_unwind_rule r;
    assert_int_equal(rule_at(fde, 0, &r), 0);
    assert_int_equal(r.cfa_is_rbp, 0);
    assert_int_equal(r.cfa_off, 8);
    assert_int_equal(r.rbp_saved, 0);
    assert_int_equal(r.outermost, 0);
    assert_int_equal(rule_at(fde, 1, &r), 0);
    assert_int_equal(r.cfa_off, 16);
    assert_int_equal(rule_at(fde, 4, &r), 0);
    assert_int_equal(r.cfa_off, 16);
    assert_int_equal(rule_at(fde, 5, &r), 0);
    assert_int_equal(r.cfa_off, 48);
    assert_int_equal(rule_at(fde, 0x3f, &r), 0);
    assert_int_equal(r.cfa_off, 48);
    assert_int_equal(rule_at(fde, 0x40, &r), 0);
    assert_int_equal(r.cfa_off, 16);
    assert_int_equal(rule_at(fde, 0x44, &r), 0);
    assert_int_equal(r.cfa_off, 8);
    /* outside the FDE's range */
    assert_int_equal(rule_at(fde, RANGE, &r), -1);
    assert_int_equal(mv__heap_cfi_rule(fde, FUNC, FUNC - 1, &r), -1);
}

static void test_frame_pointer_and_state(void **state)
{
    (void)state;
    uint8_t buf[256];
    /* push %rbp; mov %rsp,%rbp; ... body ...; remember; leave; ret;
     * restore (a second exit path). */
    static const uint8_t insns[] = {
        0x41, 0x0e, 0x10, 0x86, 0x02,  /* advance 1; cfa_offset 16; rbp at cfa-16 */
        0x43, 0x0d, 0x06,              /* advance 3; cfa_register rbp */
        0x50, 0x0a,                    /* advance 16 (0x14); remember_state */
        0x0c, 0x07, 0x08,              /* def_cfa rsp+8 (after leave) */
        0xc6,                          /* restore rbp: the CIE's rule (unchanged) */
        0x41, 0x0b,                    /* advance 1 (0x15); restore_state */
        0x2e, 0x10,                    /* GNU_args_size 16: ignored */
    };
    const uint8_t *fde = build(buf, "zR", std_cie, sizeof std_cie, insns, sizeof insns);
    mv_heap_unwind_rule r;
    assert_int_equal(rule_at(fde, 4, &r), 0);
    assert_int_equal(r.cfa_is_rbp, 1);
    assert_int_equal(r.cfa_off, 16);
    assert_int_equal(r.rbp_saved, 1);
    assert_int_equal(r.rbp_off, -16);
    assert_int_equal(rule_at(fde, 0x14, &r), 0); /* after leave */
    assert_int_equal(r.cfa_is_rbp, 0);
    assert_int_equal(r.cfa_off, 8);
    assert_int_equal(r.rbp_saved, 0);
    assert_int_equal(rule_at(fde, 0x15, &r), 0); /* the remembered row again */
    assert_int_equal(r.cfa_is_rbp, 1);
    assert_int_equal(r.cfa_off, 16);
    assert_int_equal(r.rbp_saved, 1);
    assert_int_equal(r.rbp_off, -16);
}

static void test_outermost(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const uint8_t insns[] = {0x07, 0x10}; /* undefined r16 (_start, clone3) */
    const uint8_t *fde = build(buf, "zR", std_cie, sizeof std_cie, insns, sizeof insns);
    mv_heap_unwind_rule r;
    assert_int_equal(rule_at(fde, 8, &r), 0);
    assert_int_equal(r.outermost, 1);
}

static void test_refused(void **state)
{
    (void)state;
    uint8_t buf[256];
    mv_heap_unwind_rule r;
    /* a CFA expression (PLT entries, realigned stacks): fine before it,
     * refused from its location on */
    static const uint8_t expr[] = {0x44, 0x0f, 0x03, 0x76, 0x78, 0x06}; /* advance 4; def_cfa_expression {breg6 -8; deref} */
    const uint8_t *fde = build(buf, "zR", std_cie, sizeof std_cie, expr, sizeof expr);
    assert_int_equal(rule_at(fde, 3, &r), 0);
    assert_int_equal(rule_at(fde, 4, &r), -1);
    /* RBP saved in another register */
    static const uint8_t reg[] = {0x09, 0x06, 0x03}; /* register rbp in rbx */
    fde = build(buf, "zR", std_cie, sizeof std_cie, reg, sizeof reg);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    /* the return address anywhere but CFA-8 */
    static const uint8_t ra[] = {0x90, 0x02}; /* r16 at cfa-16 */
    fde = build(buf, "zR", std_cie, sizeof std_cie, ra, sizeof ra);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    /* a CFA on a register other than RSP/RBP */
    static const uint8_t r10[] = {0x0c, 0x0a, 0x00}; /* def_cfa r10+0 */
    fde = build(buf, "zR", std_cie, sizeof std_cie, r10, sizeof r10);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    /* a signal frame's CIE */
    static const uint8_t none[] = {0x00};
    fde = build(buf, "zRS", std_cie, sizeof std_cie, none, sizeof none);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    /* ...and the same without 'S' is fine */
    fde = build(buf, "zR", std_cie, sizeof std_cie, none, sizeof none);
    assert_int_equal(rule_at(fde, 0, &r), 0);
    /* an opcode outside the set (DW_CFA_MIPS_advance_loc8) */
    static const uint8_t mips[] = {0x1d, 0, 0, 0, 0, 0, 0, 0, 0};
    fde = build(buf, "zR", std_cie, sizeof std_cie, mips, sizeof mips);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    /* remember_state overflow and restore_state underflow */
    uint8_t deep[20];
    memset(deep, 0x0a, sizeof deep);
    fde = build(buf, "zR", std_cie, sizeof std_cie, deep, sizeof deep);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    static const uint8_t under[] = {0x0b};
    fde = build(buf, "zR", std_cie, sizeof std_cie, under, sizeof under);
    assert_int_equal(rule_at(fde, 0, &r), -1);
}

/* Records cut short: an operand running past the FDE's end, a ULEB that
 * never ends, a zero length (the table's terminator), 64-bit DWARF. */
static void test_truncated(void **state)
{
    (void)state;
    uint8_t buf[256];
    mv_heap_unwind_rule r;
    static const uint8_t cut[] = {0x0c, 0x07}; /* def_cfa reg, no offset */
    const uint8_t *fde = build(buf, "zR", std_cie, sizeof std_cie, cut, sizeof cut);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    static const uint8_t leb[] = {0x0e, 0x80, 0x80, 0x80};
    fde = build(buf, "zR", std_cie, sizeof std_cie, leb, sizeof leb);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    static const uint8_t adv4[] = {0x04, 0x01, 0x00}; /* advance_loc4 with 2 of 4 bytes */
    fde = build(buf, "zR", std_cie, sizeof std_cie, adv4, sizeof adv4);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    static const uint8_t none[] = {0x00};
    fde = build(buf, "zR", std_cie, sizeof std_cie, none, sizeof none);
    uint8_t copy[256];
    memcpy(copy, buf, sizeof copy);
    uint8_t *f = copy + (fde - buf);
    memset(f, 0, 4);
    assert_int_equal(mv__heap_cfi_rule(f, FUNC, FUNC, &r), -1);
    memset(f, 0xff, 4);
    assert_int_equal(mv__heap_cfi_rule(f, FUNC, FUNC, &r), -1);
    /* a CIE whose instructions end inside an operand */
    static const uint8_t bad_cie[] = {0x0c, 0x07, 0x08, 0x90};
    fde = build(buf, "zR", bad_cie, sizeof bad_cie, none, sizeof none);
    assert_int_equal(rule_at(fde, 0, &r), -1);
    /* a CIE version this reader does not know */
    fde = build(buf, "zR", std_cie, sizeof std_cie, none, sizeof none);
    buf[8] = 2;
    assert_int_equal(rule_at(fde, 0, &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_offsets),
        cmocka_unit_test(test_frame_pointer_and_state),
        cmocka_unit_test(test_outermost),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
