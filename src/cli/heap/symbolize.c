/*
 * symbolize.c — address to function, file and line (with inlined frames)
 * through elfutils libdwfl, for profiles whose locations carry only
 * addresses (see symbolize.h).
 *
 * Design:
 *  - One Dwfl session per module file, reported "offline": the file is read
 *    from disk, not from a live process, so the same code serves the agent
 *    (the process may be gone) and offline `heap top`. Separate debug files
 *    (/usr/lib/debug/.build-id) are found by the standard callbacks.
 *  - The runtime address is turned into the ELF's own virtual address
 *    through the file offset: offset = addr - mapping start + mapping file
 *    offset, then the PT_LOAD segment holding that offset gives p_vaddr.
 *    This is right for PIE executables, shared libraries and non-PIE
 *    executables alike, whatever base the loader chose.
 *  - Return addresses (every frame but the leaf) are looked up at addr - 1,
 *    which lies inside the call instruction, so the line is the call's.
 *  - Inlined frames come from dwarf_getscopes: each DW_TAG_inlined_subroutine
 *    scope is a frame named after its origin; the line of the frame around
 *    it is the inlined call's DW_AT_call_file/DW_AT_call_line.
 *  - A mapping's file is opened by libdwfl with a plain blocking open(), so
 *    it is first checked to be a regular file with cli_open_regular
 *    (pprof.h: stat() first, so a FIFO or device named by a profile is
 *    never opened, not even non-blocking): a profile naming a FIFO must not
 *    hang the reader or swallow a writer's data, nor one naming
 *    /dev/watchdog arm it. A file swapped for a FIFO or device between the
 *    check and libdwfl's open is not guarded against.
 *  - C++ names: a DWARF scope's linkage name (or a symbol-table name) is
 *    demangled (demangle.h) to the qualified name with its template
 *    arguments, "store::Shelf<int>::grow", rather than DWARF's bare
 *    "grow"; C names, and C++ where no C++ runtime can demangle, stay as
 *    they are. Demangled strings live as long as the symbolizer.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demangle.h"
#include "symbolize.h"

#define MAX_FRAMES 16
#define NBUCKETS 4096

typedef struct module {
    char *path;
    char *build_id;        /* the profile's, "" when none */
    Dwfl *dwfl;            /* NULL: unusable */
    Dwfl_Module *mod;
    Elf *elf;
    GElf_Addr bias;
    int names_only;        /* the C runtime: symbol names, no DWARF */
    struct module *next;
} module;

typedef struct entry {
    const module *mod;
    uint64_t file_offset;  /* of the looked-up address (after -1) */
    int n;
    cli_frame f[MAX_FRAMES];
    struct entry *next;
} entry;

typedef struct owned_name {
    struct owned_name *next;
    char name[];
} owned_name;

struct cli_symbolizer {
    module *modules;
    entry *buckets[NBUCKETS];
    owned_name *names;     /* demangled names the entries point into */
};

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

cli_symbolizer *cli_symbolizer_new(void)
{
    return calloc(1, sizeof(cli_symbolizer));
}

void cli_symbolizer_free(cli_symbolizer *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < NBUCKETS; i++) {
        entry *e = s->buckets[i];
        while (e) {
            entry *n = e->next;
            free(e);
            e = n;
        }
    }
    while (s->names) {
        owned_name *o = s->names;
        s->names = o->next;
        free(o);
    }
    while (s->modules) {
        module *m = s->modules;
        s->modules = m->next;
        if (m->dwfl)
            dwfl_end(m->dwfl);
        free(m->path);
        free(m->build_id);
        free(m);
    }
    free(s);
}

/* Hex of the module's build id equals want (case-insensitive)? */
static int build_id_matches(Dwfl_Module *mod, const char *want)
{
    const unsigned char *bits;
    GElf_Addr vaddr;
    char hex[256];
    int n, i;

    if (!want[0])
        return 1;
    n = dwfl_module_build_id(mod, &bits, &vaddr);
    if (n <= 0)
        return 1; /* nothing to compare with: trust the path */
    if (n * 2 + 1 > (int)sizeof hex)
        return 1;
    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", bits[i]);
    return strcasecmp(hex, want) == 0;
}

/* Is path a regular file we can open? A FIFO or device is never opened
 * (cli_open_regular stat()s first): its open() would block, release a
 * blocked writer, or run a driver's open hook. */
static int is_regular_file(const char *path)
{
    int fd = cli_open_regular(path, NULL);

    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* 1 for the C runtime's own objects (libc.so.N, ld-linux*.so.N): their
 * frames in a heap stack are the start code (__libc_start_call_main) or
 * libc's callers of malloc (strdup, fopen), which a reader wants by name,
 * never by libc's file and line. Names come from the symbol table; the
 * DWARF is not read, and with libc's separate debug info installed that is
 * most of what a summary costs: libdw decompresses ~10 MiB of its sections
 * (bench/heap/README.md, "Reading a snapshot directory"). */
static int c_runtime(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so.", 8) == 0 || strncmp(base, "ld-linux", 8) == 0;
}

static module *module_get(cli_symbolizer *s, const cli_pprof_mapping *m)
{
    module *md;

    for (md = s->modules; md; md = md->next)
        if (strcmp(md->path, m->filename) == 0 &&
            strcmp(md->build_id, m->build_id) == 0)
            return md;
    md = calloc(1, sizeof *md);
    if (!md)
        return NULL;
    md->path = strdup(m->filename);
    md->build_id = strdup(m->build_id);
    if (!md->path || !md->build_id) {
        free(md->path);
        free(md->build_id);
        free(md);
        return NULL;
    }
    md->next = s->modules;
    s->modules = md;
    if (m->filename[0] != '/')
        return md; /* [vdso], [heap], anonymous: nothing to read */
    if (!is_regular_file(m->filename))
        return md; /* missing, unreadable, a FIFO or a device: unusable */
    md->names_only = c_runtime(m->filename);
    md->dwfl = dwfl_begin(&offline_callbacks);
    if (!md->dwfl)
        return md;
    dwfl_report_begin(md->dwfl);
    md->mod = dwfl_report_offline(md->dwfl, m->filename, m->filename, -1);
    dwfl_report_end(md->dwfl, NULL, NULL);
    if (md->mod)
        md->elf = dwfl_module_getelf(md->mod, &md->bias);
    if (!md->mod || !md->elf || !build_id_matches(md->mod, m->build_id)) {
        dwfl_end(md->dwfl);
        md->dwfl = NULL;
        md->mod = NULL;
        md->elf = NULL;
    }
    return md;
}

/* ELF virtual address of a file offset, through the PT_LOAD segments. */
static int offset_to_vaddr(Elf *elf, uint64_t off, uint64_t *vaddr)
{
    size_t n, i;

    if (elf_getphdrnum(elf, &n) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        if (off >= ph.p_offset && off < ph.p_offset + ph.p_memsz) {
            *vaddr = off - ph.p_offset + ph.p_vaddr;
            return 0;
        }
    }
    return -1;
}

static const char *file_of(Dwarf_Die *cu, Dwarf_Word idx)
{
    Dwarf_Files *files;
    size_t nfiles;

    if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
        return NULL;
    return dwarf_filesrc(files, idx, NULL, NULL);
}

/* The readable name of a mangled C++ name, kept by s; name itself when it
 * is not one (or cannot be demangled). */
static const char *readable(cli_symbolizer *s, const char *name)
{
    char *d = cli_demangle(name);
    if (!d)
        return name;
    size_t n = strlen(d) + 1;
    owned_name *o = malloc(sizeof *o + n);
    if (!o) {
        free(d);
        return name;
    }
    memcpy(o->name, d, n);
    free(d);
    o->next = s->names;
    s->names = o;
    return o->name;
}

/* A copy of name kept by s; NULL when out of memory. */
static const char *keep(cli_symbolizer *s, const char *name)
{
    size_t n = strlen(name) + 1;
    owned_name *o = malloc(sizeof *o + n);

    if (!o)
        return NULL;
    memcpy(o->name, name, n);
    o->next = s->names;
    s->names = o;
    return o->name;
}

static const char *scope_name(cli_symbolizer *s, Dwarf_Die *die,
                              const char **link_out);

/* GCC gives an inlined lambda's call operator no linkage name (it has no
 * symbol), only "operator()" in an unnamed structure declared inside a
 * function. Such a frame is named "FUNC::{lambda}::operator()", after the
 * demangler's "FUNC::{lambda(ARGS)#N}::operator()" for one that is not
 * inlined; NULL when die is not one. */
static const char *lambda_name(cli_symbolizer *s, Dwarf_Die *die)
{
    Dwarf_Die origin, decl, *d = die, *scopes = NULL;
    Dwarf_Attribute at;
    const char *fn = NULL, *link, *r = NULL;
    char buf[1024];
    int n, i;

    if (dwarf_attr(d, DW_AT_abstract_origin, &at) &&
        dwarf_formref_die(&at, &origin))
        d = &origin;
    if (dwarf_attr(d, DW_AT_specification, &at) &&
        dwarf_formref_die(&at, &decl))
        d = &decl;
    n = dwarf_getscopes_die(d, &scopes);
    /* scopes[0] is d, [1] its structure, then what encloses that */
    if (n >= 3 && (dwarf_tag(&scopes[1]) == DW_TAG_structure_type ||
                   dwarf_tag(&scopes[1]) == DW_TAG_class_type) &&
        !dwarf_diename(&scopes[1])) {
        for (i = 2; i < n && !fn; i++)
            if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
                fn = scope_name(s, &scopes[i], &link);
        if (fn && snprintf(buf, sizeof buf, "%s::{lambda}::operator()", fn) <
                      (int)sizeof buf)
            r = keep(s, buf);
    }
    free(scopes);
    return r;
}

/* A scope's name: its demangled linkage name (qualified, through its
 * abstract origin for an inlined one), else DWARF's plain name (an inlined
 * lambda's: lambda_name). *link gets the linkage name when the name
 * returned is its demangling, else NULL. */
static const char *scope_name(cli_symbolizer *s, Dwarf_Die *die,
                              const char **link_out)
{
    Dwarf_Attribute at;
    const char *link = NULL, *name;

    *link_out = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &at) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &at))
        link = dwarf_formstring(&at);
    if (link) {
        const char *r = readable(s, link);
        if (r != link) {
            *link_out = link;
            return r;
        }
    }
    name = dwarf_diename(die);
    if (name && !link && !strcmp(name, "operator()")) {
        const char *l = lambda_name(s, die);
        if (l)
            return l;
    }
    return name;
}

/* The first line of a scope's function (DW_AT_decl_line, through its
 * abstract origin or specification), 0 when DWARF does not say. */
static int64_t scope_start_line(Dwarf_Die *die)
{
    Dwarf_Attribute at;
    Dwarf_Word w;

    if (dwarf_attr_integrate(die, DW_AT_decl_line, &at) &&
        dwarf_formudata(&at, &w) == 0)
        return (int64_t)w;
    return 0;
}

/* name without a symbol version ("__libc_start_main@@GLIBC_2.34": the
 * symbol table's spelling of a versioned definition), owned by s; name
 * itself when it has none or on ENOMEM. */
static const char *unversioned(cli_symbolizer *s, const char *name)
{
    const char *at = strchr(name, '@');
    if (!at || at == name)
        return name;
    size_t n = (size_t)(at - name);
    owned_name *o = malloc(sizeof *o + n + 1);
    if (!o)
        return name;
    memcpy(o->name, name, n);
    o->name[n] = 0;
    o->next = s->names;
    s->names = o;
    return o->name;
}

/* Resolves module address a into e->f. */
static void lookup(cli_symbolizer *s, module *md, Dwarf_Addr a, entry *e)
{
    Dwarf_Addr cubias = 0;
    Dwarf_Die *cu = md->names_only ? NULL : dwfl_module_addrdie(md->mod, a, &cubias);
    Dwfl_Line *line = md->names_only ? NULL : dwfl_module_getsrc(md->mod, a);
    const char *file = NULL, *rawsym = dwfl_module_addrname(md->mod, a);
    if (rawsym)
        rawsym = unversioned(s, rawsym);
    const char *symname = rawsym ? readable(s, rawsym) : NULL;
    const char *symlink = symname != rawsym ? rawsym : NULL;
    int lineno = 0;

    if (line)
        file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
    e->n = 0;
    if (cu) {
        Dwarf_Die *scopes = NULL;
        int ns = dwarf_getscopes(cu, a - cubias, &scopes), i;
        int outer = 0; /* the enclosing DW_TAG_subprogram was seen */
        for (i = 0; i < ns && e->n < MAX_FRAMES; i++) {
            int tag = dwarf_tag(&scopes[i]);
            Dwarf_Attribute at;
            Dwarf_Word w;
            const char *name, *link;
            if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
                continue;
            name = scope_name(s, &scopes[i], &link);
            if (!name && tag == DW_TAG_subprogram) {
                name = symname;
                link = symlink;
            }
            e->f[e->n].function = name ? name : "??";
            e->f[e->n].system_name = link;
            e->f[e->n].start_line = scope_start_line(&scopes[i]);
            e->f[e->n].file = file;
            e->f[e->n].line = lineno;
            e->n++;
            if (tag == DW_TAG_subprogram) {
                outer = 1;
                break;
            }
            /* the next (outer) frame is at this inlined call's site */
            file = NULL;
            lineno = 0;
            if (dwarf_attr(&scopes[i], DW_AT_call_file, &at) &&
                dwarf_formudata(&at, &w) == 0)
                file = file_of(cu, w);
            if (dwarf_attr(&scopes[i], DW_AT_call_line, &at) &&
                dwarf_formudata(&at, &w) == 0)
                lineno = (int)w;
        }
        free(scopes);
        /* inlined frames whose enclosing function's scope libdw did not
         * give (seen in out-of-line template instances): the function is
         * the symbol holding the address, at the inlined call's line */
        if (e->n > 0 && !outer && symname && e->n < MAX_FRAMES) {
            e->f[e->n].function = symname;
            e->f[e->n].system_name = symlink;
            e->f[e->n].file = file;
            e->f[e->n].line = lineno;
            e->n++;
        }
    }
    if (e->n == 0 && symname) {
        e->f[0].function = symname;
        e->f[0].system_name = symlink;
        e->f[0].file = file;
        e->f[0].line = lineno;
        e->n = 1;
    }
}

int cli_symbolize(void *ctx, const cli_pprof_mapping *m, uint64_t addr,
                  int pc_is_return, cli_frame *frames, int max)
{
    cli_symbolizer *s = ctx;
    module *md;
    entry *e;
    uint64_t off, vaddr;
    size_t h;
    int i, n;

    if (!s || !m || max <= 0 || addr < m->start)
        return 0;
    md = module_get(s, m);
    if (!md || !md->dwfl)
        return 0;
    if (pc_is_return && addr > m->start)
        addr--;
    off = addr - m->start + m->offset;
    h = (size_t)((off * 0x9e3779b97f4a7c15ull) >> 52) % NBUCKETS;
    for (e = s->buckets[h]; e; e = e->next)
        if (e->mod == md && e->file_offset == off)
            break;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return 0;
        e->mod = md;
        e->file_offset = off;
        if (offset_to_vaddr(md->elf, off, &vaddr) == 0)
            lookup(s, md, (Dwarf_Addr)(vaddr + md->bias), e);
        e->next = s->buckets[h];
        s->buckets[h] = e;
    }
    n = e->n < max ? e->n : max;
    for (i = 0; i < n; i++)
        frames[i] = e->f[i];
    return n;
}
