/* cfi.c — reads one .eh_frame FDE and its CIE and runs their call-frame
 * instructions up to an address, yielding the walker's rule (stackwalk.h).
 *
 * Only what the rule can express is supported; everything else answers -1
 * and the walker falls back to libgcc. Pure: it reads the bytes it is given
 * (bounded by the CIE's and FDE's own lengths), nothing else. Layouts,
 * opcodes and encodings: see stackwalk.h for the sources.
 */
#include "stackwalk.h"

#include <string.h>

/* x86-64 DWARF register numbers (psABI). */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

/* How a register is recovered, as far as the rule cares. */
enum { HOW_SAME = 0, HOW_OFFSET, HOW_UNDEFINED, HOW_OTHER };

typedef struct reg_rule {
    int how;
    int64_t off;      /* HOW_OFFSET: at CFA + off */
} reg_rule;

typedef struct cfa_row {
    unsigned cfa_reg;
    int64_t cfa_off;
    int cfa_other;    /* CFA given by an expression */
    reg_rule rbp, ra;
    int rsp_rule;     /* any rule for RSP (the rule assumes caller RSP = CFA) */
} cfa_row;

/* A byte cursor that never reads past end. */
typedef struct cursor {
    const uint8_t *p, *end;
    int bad;
} cursor;

static uint8_t get_u8(cursor *c)
{
    if (c->p >= c->end) {
        c->bad = 1;
        return 0;
    }
    return *c->p++;
}

static uint64_t get_fixed(cursor *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = 1;
        c->p = c->end;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, c->p, n); /* x86-64 is little-endian, as is its .eh_frame */
    c->p += n;
    return v;
}

static uint64_t get_uleb(cursor *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b = get_u8(c);
        if (c->bad)
            return 0;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
        if (shift > 70) {
            c->bad = 1;
            return 0;
        }
    }
}

static int64_t get_sleb(cursor *c)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        b = get_u8(c);
        if (c->bad || shift > 70) {
            c->bad = 1;
            return 0;
        }
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* DW_EH_PE_* value formats (low nibble). */
enum {
    PE_ABSPTR = 0x00, PE_ULEB = 0x01, PE_UDATA2 = 0x02, PE_UDATA4 = 0x03, PE_UDATA8 = 0x04,
    PE_SLEB = 0x09, PE_SDATA2 = 0x0a, PE_SDATA4 = 0x0b, PE_SDATA8 = 0x0c,
    PE_ALIGNED = 0x50, PE_OMIT = 0xff,
};

/* Skips one pointer in encoding enc (its value is never needed: the FDE's
 * start comes from _Unwind_Find_FDE). -1 for an encoding not understood. */
static int skip_encoded(cursor *c, uint8_t enc)
{
    if (enc == PE_OMIT)
        return 0;
    if ((enc & 0x70) == PE_ALIGNED)
        return -1;
    switch (enc & 0x0f) {
    case PE_ABSPTR: get_fixed(c, sizeof(void *)); break;
    case PE_ULEB: get_uleb(c); break;
    case PE_SLEB: get_sleb(c); break;
    case PE_UDATA2: case PE_SDATA2: get_fixed(c, 2); break;
    case PE_UDATA4: case PE_SDATA4: get_fixed(c, 4); break;
    case PE_UDATA8: case PE_SDATA8: get_fixed(c, 8); break;
    default: return -1;
    }
    return c->bad ? -1 : 0;
}

/* Reads a value in format enc (no application: pc_range, DW_CFA_set_loc's
 * operand relative to nothing). -1 when not understood. */
static int get_encoded_value(cursor *c, uint8_t enc, uint64_t *v)
{
    switch (enc & 0x0f) {
    case PE_ABSPTR: *v = get_fixed(c, sizeof(void *)); break;
    case PE_ULEB: *v = get_uleb(c); break;
    case PE_SLEB: *v = (uint64_t)get_sleb(c); break;
    case PE_UDATA2: *v = get_fixed(c, 2); break;
    case PE_SDATA2: *v = (uint64_t)(int64_t)(int16_t)get_fixed(c, 2); break;
    case PE_UDATA4: *v = get_fixed(c, 4); break;
    case PE_SDATA4: *v = (uint64_t)(int64_t)(int32_t)get_fixed(c, 4); break;
    case PE_UDATA8: case PE_SDATA8: *v = get_fixed(c, 8); break;
    default: return -1;
    }
    return c->bad ? -1 : 0;
}

/* One CIE, as far as the FDE's reading and the instructions need it. */
typedef struct cie_info {
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_enc;          /* 'R', DW_EH_PE_absptr when absent */
    int has_z;
    const uint8_t *insns, *insns_end;
} cie_info;

static int parse_cie(const uint8_t *cie, cie_info *ci)
{
    uint32_t len;
    memcpy(&len, cie, 4);
    if (len == 0 || len == 0xffffffffu) /* terminator; 64-bit DWARF: not here */
        return -1;
    cursor c = {cie + 4, cie + 4 + len, 0};
    if (get_fixed(&c, 4) != 0) /* CIE id is 0 in .eh_frame */
        return -1;
    uint8_t version = get_u8(&c);
    if (version != 1 && version != 3)
        return -1;
    const char *aug = (const char *)c.p;
    size_t auglen = strnlen(aug, (size_t)(c.end - c.p));
    if (c.p + auglen >= c.end)
        return -1;
    c.p += auglen + 1;
    if (auglen && aug[0] != 'z')
        return -1; /* "eh" and other pre-'z' forms */
    ci->code_align = get_uleb(&c);
    ci->data_align = get_sleb(&c);
    uint64_t ra_reg = version == 1 ? get_u8(&c) : get_uleb(&c);
    if (c.bad || ra_reg != REG_RA)
        return -1;
    ci->fde_enc = PE_ABSPTR;
    ci->has_z = auglen > 0;
    const uint8_t *insns = c.p;
    if (ci->has_z) {
        uint64_t zlen = get_uleb(&c);
        if (c.bad || zlen > (uint64_t)(c.end - c.p))
            return -1;
        insns = c.p + zlen;
        for (size_t i = 1; i < auglen; i++) {
            switch (aug[i]) {
            case 'R': ci->fde_enc = get_u8(&c); break;
            case 'L': get_u8(&c); break;
            case 'P': {
                uint8_t enc = get_u8(&c);
                if (c.bad || skip_encoded(&c, enc & 0x7f) != 0)
                    return -1;
                break;
            }
            default: return -1; /* 'S' (signal frame) and anything unknown */
            }
        }
        if (c.bad || c.p > insns)
            return -1;
    }
    ci->insns = insns;
    ci->insns_end = c.end;
    return 0;
}

#define STATE_STACK 8

typedef struct cfa_machine {
    const cie_info *ci;
    cfa_row row, initial;      /* initial: after the CIE's instructions */
    cfa_row saved[STATE_STACK];
    int nsaved;
    uint64_t loc;
    uint64_t target;
} cfa_machine;

static void set_reg(cfa_row *r, uint64_t reg, int how, int64_t off)
{
    reg_rule rr = {how, off};
    if (reg == REG_RBP)
        r->rbp = rr;
    else if (reg == REG_RA)
        r->ra = rr;
    else if (reg == REG_RSP)
        r->rsp_rule = how != HOW_SAME;
}

static void restore_reg(cfa_machine *m, uint64_t reg)
{
    if (reg == REG_RBP)
        m->row.rbp = m->initial.rbp;
    else if (reg == REG_RA)
        m->row.ra = m->initial.ra;
    else if (reg == REG_RSP)
        m->row.rsp_rule = m->initial.rsp_rule;
}

/* Runs instructions [p, end) while the location stays <= target. 1 when
 * the target's row is reached (an advance went past it), 0 at the end of
 * the instructions, -1 when unsupported or malformed. */
static int run(cfa_machine *m, const uint8_t *p, const uint8_t *end, int in_cie)
{
    cursor c = {p, end, 0};
    const int64_t daf = m->ci->data_align;
    const uint64_t caf = m->ci->code_align;
    while (c.p < c.end) {
        uint8_t op = get_u8(&c);
        uint64_t reg, delta = 0;
        int advance = 0;
        switch (op >> 6) {
        case 1: /* DW_CFA_advance_loc */
            delta = (uint64_t)(op & 0x3f) * caf;
            advance = 1;
            break;
        case 2: /* DW_CFA_offset */
            reg = op & 0x3f;
            set_reg(&m->row, reg, HOW_OFFSET, (int64_t)get_uleb(&c) * daf);
            break;
        case 3: /* DW_CFA_restore */
            restore_reg(m, op & 0x3f);
            break;
        default:
            switch (op) {
            case 0x00: break;                                    /* nop */
            case 0x01: return -1; /* set_loc: needs the pointer's base; compilers do not emit it */
            case 0x02: delta = get_fixed(&c, 1) * caf; advance = 1; break; /* advance_loc1 */
            case 0x03: delta = get_fixed(&c, 2) * caf; advance = 1; break; /* advance_loc2 */
            case 0x04: delta = get_fixed(&c, 4) * caf; advance = 1; break; /* advance_loc4 */
            case 0x05:                                           /* offset_extended */
                reg = get_uleb(&c);
                set_reg(&m->row, reg, HOW_OFFSET, (int64_t)get_uleb(&c) * daf);
                break;
            case 0x06: restore_reg(m, get_uleb(&c)); break;      /* restore_extended */
            case 0x07: set_reg(&m->row, get_uleb(&c), HOW_UNDEFINED, 0); break; /* undefined */
            case 0x08: set_reg(&m->row, get_uleb(&c), HOW_SAME, 0); break;      /* same_value */
            case 0x09:                                           /* register */
                reg = get_uleb(&c);
                get_uleb(&c);
                set_reg(&m->row, reg, HOW_OTHER, 0);
                break;
            case 0x0a:                                           /* remember_state */
                if (m->nsaved == STATE_STACK)
                    return -1;
                m->saved[m->nsaved++] = m->row;
                break;
            case 0x0b: {                                         /* restore_state */
                if (m->nsaved == 0)
                    return -1;
                /* The whole row comes back, CFA rule included (DWARF 4
                 * 6.4.2.4; libgcc does the same). */
                m->row = m->saved[--m->nsaved];
                break;
            }
            case 0x0c:                                           /* def_cfa */
                m->row.cfa_reg = (unsigned)get_uleb(&c);
                m->row.cfa_off = (int64_t)get_uleb(&c);
                m->row.cfa_other = 0;
                break;
            case 0x0d:                                           /* def_cfa_register */
                m->row.cfa_reg = (unsigned)get_uleb(&c);
                m->row.cfa_other = 0;
                break;
            case 0x0e: m->row.cfa_off = (int64_t)get_uleb(&c); break; /* def_cfa_offset */
            case 0x0f: {                                         /* def_cfa_expression */
                uint64_t n = get_uleb(&c);
                if (n > (uint64_t)(c.end - c.p))
                    return -1;
                c.p += n;
                m->row.cfa_other = 1;
                break;
            }
            case 0x10:                                           /* expression */
            case 0x16: {                                         /* val_expression */
                reg = get_uleb(&c);
                uint64_t n = get_uleb(&c);
                if (c.bad || n > (uint64_t)(c.end - c.p))
                    return -1;
                c.p += n;
                set_reg(&m->row, reg, HOW_OTHER, 0);
                break;
            }
            case 0x11:                                           /* offset_extended_sf */
                reg = get_uleb(&c);
                set_reg(&m->row, reg, HOW_OFFSET, get_sleb(&c) * daf);
                break;
            case 0x12:                                           /* def_cfa_sf */
                m->row.cfa_reg = (unsigned)get_uleb(&c);
                m->row.cfa_off = get_sleb(&c) * daf;
                m->row.cfa_other = 0;
                break;
            case 0x13: m->row.cfa_off = get_sleb(&c) * daf; break; /* def_cfa_offset_sf */
            case 0x14:                                           /* val_offset */
                reg = get_uleb(&c);
                get_uleb(&c);
                set_reg(&m->row, reg, HOW_OTHER, 0);
                break;
            case 0x15:                                           /* val_offset_sf */
                reg = get_uleb(&c);
                get_sleb(&c);
                set_reg(&m->row, reg, HOW_OTHER, 0);
                break;
            case 0x2e: get_uleb(&c); break;                      /* GNU_args_size */
            case 0x2f:                                           /* GNU_negative_offset_extended */
                reg = get_uleb(&c);
                set_reg(&m->row, reg, HOW_OFFSET, -(int64_t)get_uleb(&c) * daf);
                break;
            default:
                return -1;
            }
        }
        if (c.bad)
            return -1;
        if (advance) {
            if (in_cie)
                return -1; /* a CIE's instructions do not advance */
            m->loc += delta;
            if (m->loc > m->target)
                return 1;
        }
    }
    return 0;
}

int mv__heap_cfi_rule(const uint8_t *fde, uintptr_t func, uintptr_t target,
                      mv_heap_unwind_rule *out)
{
    uint32_t len, cie_off;
    memcpy(&len, fde, 4);
    if (len == 0 || len == 0xffffffffu)
        return -1;
    memcpy(&cie_off, fde + 4, 4);
    if (cie_off == 0 || cie_off > (uintptr_t)(fde + 4))
        return -1; /* 0 would make it a CIE */
    cie_info ci;
    if (parse_cie(fde + 4 - cie_off, &ci) != 0)
        return -1;
    cursor c = {fde + 8, fde + 4 + len, 0};
    uint64_t range;
    if (skip_encoded(&c, ci.fde_enc) != 0 || get_encoded_value(&c, ci.fde_enc, &range) != 0)
        return -1;
    if (target < func || target - func >= range)
        return -1;
    if (ci.has_z) {
        uint64_t zlen = get_uleb(&c);
        if (c.bad || zlen > (uint64_t)(c.end - c.p))
            return -1;
        c.p += zlen;
    }

    cfa_machine m;
    memset(&m, 0, sizeof m);
    m.ci = &ci;
    m.row.ra.how = HOW_SAME; /* no rule yet: unsupported below */
    m.loc = func;
    m.target = target;
    if (run(&m, ci.insns, ci.insns_end, 1) != 0)
        return -1;
    m.initial = m.row;
    m.nsaved = 0;
    if (run(&m, c.p, c.end, 0) < 0)
        return -1;

    const cfa_row *r = &m.row;
    if (r->ra.how == HOW_UNDEFINED) {
        memset(out, 0, sizeof *out);
        out->outermost = 1;
        return 0;
    }
    /* An undefined RBP is left as it is, as libgcc does. */
    if (r->cfa_other || (r->cfa_reg != REG_RSP && r->cfa_reg != REG_RBP) || r->rsp_rule ||
        r->ra.how != HOW_OFFSET || r->ra.off != -8 || r->rbp.how == HOW_OTHER)
        return -1;
    out->cfa_is_rbp = r->cfa_reg == REG_RBP;
    out->cfa_off = r->cfa_off;
    out->rbp_saved = r->rbp.how == HOW_OFFSET;
    out->rbp_off = out->rbp_saved ? r->rbp.off : 0;
    out->outermost = 0;
    return 0;
}
