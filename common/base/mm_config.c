#include "mm_config.h"

#include "mm_log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mm_config_s {
        const mm_config_option_t *table;
        size_t n;
        char **values; /* n values, owned, NULL = unset */
        char **kkeys, **kvals;
        size_t kcount, kcap;
        char **args;
        size_t nargs;
        int help;
        unsigned char *cli_set; /* LIST options: already given on the command line */
};

mm_config_t *mm_config_new(const mm_config_option_t *table, size_t n) {
        mm_config_t *cfg = calloc(1, sizeof(*cfg));
        if (!cfg)
                return NULL;
        cfg->table = table;
        cfg->n = n;
        cfg->values = calloc(n ? n : 1, sizeof(char *));
        cfg->cli_set = calloc(n ? n : 1, 1);
        cfg->args = NULL;
        if (!cfg->values || !cfg->cli_set) {
                free(cfg->values);
                free(cfg->cli_set);
                free(cfg);
                return NULL;
        }
        return cfg;
}

void mm_config_destroy(mm_config_t *cfg) {
        if (!cfg)
                return;
        for (size_t i = 0; i < cfg->n; i++)
                free(cfg->values[i]);
        free(cfg->values);
        free(cfg->cli_set);
        for (size_t i = 0; i < cfg->kcount; i++) {
                free(cfg->kkeys[i]);
                free(cfg->kvals[i]);
        }
        free(cfg->kkeys);
        free(cfg->kvals);
        free(cfg->args);
        free(cfg);
}

static long find_option(const mm_config_t *cfg, const char *name, size_t len) {
        for (size_t i = 0; i < cfg->n; i++) {
                if (strlen(cfg->table[i].name) == len && !strncmp(cfg->table[i].name, name, len))
                        return (long)i;
        }
        return -1;
}

static long find_short(const mm_config_t *cfg, char c) {
        for (size_t i = 0; i < cfg->n; i++)
                if (cfg->table[i].short_name == c)
                        return (long)i;
        return -1;
}

static int parse_bool(const char *v, int *out) {
        if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
            !strcasecmp(v, "on")) {
                *out = 1;
                return 0;
        }
        if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
            !strcasecmp(v, "off")) {
                *out = 0;
                return 0;
        }
        return -1;
}

static int parse_int(const char *v, int is_size, long long *out) {
        errno = 0;
        char *end = NULL;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v)
                return -1;
        while (*end == ' ')
                end++;
        if (*end) {
                if (!is_size)
                        return -1;
                long long mul = 0;
                if (!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
                        mul = 1024LL;
                else if (!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
                        mul = 1024LL * 1024;
                else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb") || !strcasecmp(end, "gib"))
                        mul = 1024LL * 1024 * 1024;
                else
                        return -1;
                /* x * mul must not overflow (undefined behaviour) */
                if (x > LLONG_MAX / mul || x < LLONG_MIN / mul)
                        return -1;
                x *= mul;
        }
        if (is_size && x < 0)
                return -1;
        *out = x;
        return 0;
}

/* Validates and stores a value for option i. `origin` names the source. */
static int set_value(mm_config_t *cfg, size_t i, const char *v, const char *origin, char *errstr,
                     size_t errstr_size) {
        const mm_config_option_t *o = &cfg->table[i];
        long long x;
        int b;
        if ((o->type == MM_CONFIG_INT || o->type == MM_CONFIG_SIZE) &&
            parse_int(v, o->type == MM_CONFIG_SIZE, &x) != 0) {
                snprintf(errstr, errstr_size, "%s: option %s needs %s, got \"%s\"", origin, o->name,
                         o->type == MM_CONFIG_SIZE ? "a size (e.g. 16MiB)" : "an integer",
                         o->secret ? "****" : v);
                return -1;
        }
        if (o->type == MM_CONFIG_BOOL && parse_bool(v, &b) != 0) {
                snprintf(errstr, errstr_size, "%s: option %s needs true or false, got \"%s\"",
                         origin, o->name, v);
                return -1;
        }
        char *dup;
        if (o->type == MM_CONFIG_LIST && !strcmp(origin, "command line") && cfg->cli_set[i] &&
            cfg->values[i]) {
                /* a repeated LIST option adds an item */
                if (asprintf(&dup, "%s,%s", cfg->values[i], v) < 0)
                        dup = NULL;
        } else {
                dup = strdup(v);
        }
        if (o->type == MM_CONFIG_LIST && !strcmp(origin, "command line"))
                cfg->cli_set[i] = 1;
        if (!dup) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        free(cfg->values[i]);
        cfg->values[i] = dup;
        return 0;
}

static int add_kafka(mm_config_t *cfg, const char *kv, const char *origin, char *errstr,
                     size_t errstr_size) {
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
                snprintf(errstr, errstr_size, "%s: -X needs key=value, got \"%s\"", origin, kv);
                return -1;
        }
        if (cfg->kcount == cfg->kcap) {
                size_t cap = cfg->kcap ? cfg->kcap * 2 : 8;
                char **k = realloc(cfg->kkeys, cap * sizeof(char *));
                if (!k)
                        goto oom;
                cfg->kkeys = k;
                char **v = realloc(cfg->kvals, cap * sizeof(char *));
                if (!v)
                        goto oom;
                cfg->kvals = v;
                cfg->kcap = cap;
        }
        cfg->kkeys[cfg->kcount] = strndup(kv, (size_t)(eq - kv));
        cfg->kvals[cfg->kcount] = strdup(eq + 1);
        if (!cfg->kkeys[cfg->kcount] || !cfg->kvals[cfg->kcount]) {
                free(cfg->kkeys[cfg->kcount]);
                free(cfg->kvals[cfg->kcount]);
                goto oom;
        }
        cfg->kcount++;
        return 0;
oom:
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
}

static char *trim(char *s) {
        while (isspace((unsigned char)*s))
                s++;
        size_t len = strlen(s);
        while (len > 0 && isspace((unsigned char)s[len - 1]))
                s[--len] = '\0';
        return s;
}

static int load_file(mm_config_t *cfg, const char *path, char *errstr, size_t errstr_size) {
        FILE *fp = fopen(path, "r");
        if (!fp) {
                snprintf(errstr, errstr_size, "config file %s: %s", path, strerror(errno));
                return -1;
        }
        char line[4096];
        int lineno = 0, rc = 0;
        while (rc == 0 && fgets(line, sizeof(line), fp)) {
                lineno++;
                char *s = trim(line);
                if (!*s || *s == '#' || *s == ';')
                        continue;
                char origin[512];
                snprintf(origin, sizeof(origin), "%.400s:%d", path, lineno);
                char *eq = strchr(s, '=');
                if (!eq) {
                        snprintf(errstr, errstr_size, "%s: expected key=value", origin);
                        rc = -1;
                        break;
                }
                *eq = '\0';
                char *key = trim(s), *val = trim(eq + 1);
                if (!strncmp(key, "kafka.", 6)) {
                        char kv[4096];
                        snprintf(kv, sizeof(kv), "%s=%s", key + 6, val);
                        rc = add_kafka(cfg, kv, origin, errstr, errstr_size);
                        continue;
                }
                long i = find_option(cfg, key, strlen(key));
                if (i < 0 || !strcmp(key, "config")) {
                        snprintf(errstr, errstr_size, "%s: unknown key \"%s\"", origin, key);
                        rc = -1;
                        break;
                }
                rc = set_value(cfg, (size_t)i, val, origin, errstr, errstr_size);
        }
        fclose(fp);
        return rc;
}

/* Step 1 of mm_config_load: every option with a default gets it, and the
 * positional-argument array gets room for all of argv. */
static int load_defaults(mm_config_t *cfg, int argc, char *errstr, size_t errstr_size) {
        for (size_t i = 0; i < cfg->n; i++) {
                if (cfg->table[i].def &&
                    set_value(cfg, i, cfg->table[i].def, "default", errstr, errstr_size) != 0)
                        return -1;
        }
        free(cfg->args);
        cfg->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
        if (!cfg->args) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        return 0;
}

/* The config file to read: the last --config on the command line (before
 * "--"), else the config option's environment variable; NULL if none.
 * `ci` is the config option's index, or -1 when the table has none. */
static const char *config_file_name(const mm_config_t *cfg, long ci, int argc, char **argv) {
        const char *cfile = NULL;
        if (ci >= 0 && cfg->table[ci].env && getenv(cfg->table[ci].env) &&
            *getenv(cfg->table[ci].env))
                cfile = getenv(cfg->table[ci].env);
        for (int a = 1; a < argc; a++) {
                if (!strcmp(argv[a], "--"))
                        break;
                if (!strcmp(argv[a], "--config") && a + 1 < argc)
                        cfile = argv[a + 1];
                else if (!strncmp(argv[a], "--config=", 9))
                        cfile = argv[a] + 9;
        }
        return cfile;
}

/* Step 3: options set in their environment variables (all but the config
 * file's, which step 2 read already). */
static int load_env(mm_config_t *cfg, long ci, char *errstr, size_t errstr_size) {
        for (size_t i = 0; i < cfg->n; i++) {
                const char *env = cfg->table[i].env;
                const char *v = env ? getenv(env) : NULL;
                if (v && *v && (long)i != ci && set_value(cfg, i, v, env, errstr, errstr_size) != 0)
                        return -1;
        }
        return 0;
}

/* A command-line -X: "-Xkey=value" or "-X key=value" (then *a moves past
 * the value). */
static int load_kafka_arg(mm_config_t *cfg, int argc, char **argv, int *a, char *errstr,
                          size_t errstr_size) {
        const char *arg = argv[*a];
        const char *kv = arg[2] ? arg + 2 : NULL;
        if (!kv) {
                if (*a + 1 >= argc) {
                        snprintf(errstr, errstr_size, "-X needs key=value");
                        return -1;
                }
                kv = argv[++*a];
        }
        return add_kafka(cfg, kv, "-X", errstr, errstr_size);
}

/* A command-line option: --name, --name=value, --name value, -c, -cvalue
 * or -c value (then *a moves past the value). A boolean needs no value. */
static int load_option_arg(mm_config_t *cfg, int argc, char **argv, int *a, char *errstr,
                           size_t errstr_size) {
        const char *arg = argv[*a];
        long i;
        const char *val = NULL;
        if (arg[1] == '-') {
                const char *name = arg + 2;
                const char *eq = strchr(name, '=');
                size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
                i = find_option(cfg, name, nlen);
                if (i < 0) {
                        snprintf(errstr, errstr_size, "unknown option --%.*s (see --help)",
                                 (int)nlen, name);
                        return -1;
                }
                if (eq)
                        val = eq + 1;
        } else {
                i = find_short(cfg, arg[1]);
                if (i < 0) {
                        snprintf(errstr, errstr_size, "unknown option %s (see --help)", arg);
                        return -1;
                }
                if (arg[2])
                        val = arg + 2;
        }
        if (!val) {
                if (cfg->table[i].type == MM_CONFIG_BOOL) {
                        val = "true";
                } else if (*a + 1 < argc) {
                        val = argv[++*a];
                } else {
                        snprintf(errstr, errstr_size, "option --%s needs a value",
                                 cfg->table[i].name);
                        return -1;
                }
        }
        if (!strcmp(cfg->table[i].name, "config"))
                return 0; /* already loaded */
        return set_value(cfg, (size_t)i, val, "command line", errstr, errstr_size);
}

/* Step 4: the command line. Options override everything before; the
 * other arguments (and all after "--") are kept in order. */
static int load_command_line(mm_config_t *cfg, int argc, char **argv, char *errstr,
                             size_t errstr_size) {
        int only_args = 0;
        for (int a = 1; a < argc; a++) {
                const char *arg = argv[a];
                if (only_args || arg[0] != '-' || !arg[1]) {
                        cfg->args[cfg->nargs++] = argv[a];
                        continue;
                }
                if (!strcmp(arg, "--")) {
                        only_args = 1;
                        continue;
                }
                if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
                        cfg->help = 1;
                        continue;
                }
                if (!strcmp(arg, "-X") || !strncmp(arg, "-X", 2)) {
                        if (load_kafka_arg(cfg, argc, argv, &a, errstr, errstr_size) != 0)
                                return -1;
                        continue;
                }
                if (load_option_arg(cfg, argc, argv, &a, errstr, errstr_size) != 0)
                        return -1;
        }
        return 0;
}

int mm_config_load(mm_config_t *cfg, int argc, char **argv, char *errstr, size_t errstr_size) {
        /* 1. defaults */
        if (load_defaults(cfg, argc, errstr, errstr_size) != 0)
                return -1;
        /* 2. config file: --config on the command line, else its env var */
        long ci = find_option(cfg, "config", 6);
        const char *cfile = config_file_name(cfg, ci, argc, argv);
        if (cfile) {
                if (load_file(cfg, cfile, errstr, errstr_size) != 0)
                        return -1;
                if (ci >= 0 &&
                    set_value(cfg, (size_t)ci, cfile, "config", errstr, errstr_size) != 0)
                        return -1;
        }
        /* 3. environment */
        if (load_env(cfg, ci, errstr, errstr_size) != 0)
                return -1;
        /* 4. command line */
        return load_command_line(cfg, argc, argv, errstr, errstr_size);
}

int mm_config_help_requested(const mm_config_t *cfg) {
        return cfg->help;
}

static const char *type_name(mm_config_type_t t) {
        switch (t) {
        case MM_CONFIG_INT:
                return "INT";
        case MM_CONFIG_SIZE:
                return "SIZE";
        case MM_CONFIG_BOOL:
                return "[=on|off]"; /* "--ocr" alone is on */
        case MM_CONFIG_LIST:
                return "STR...";
        default:
                return "STR";
        }
}

static void print_option(const mm_config_option_t *o, FILE *fp) {
        char flags[160];
        const char *sep = o->type == MM_CONFIG_BOOL ? "" : " ";
        if (o->short_name)
                snprintf(flags, sizeof(flags), "-%c, --%s%s%s", o->short_name, o->name, sep,
                         type_name(o->type));
        else
                snprintf(flags, sizeof(flags), "    --%s%s%s", o->name, sep, type_name(o->type));
        fprintf(fp, "  %-34s %s\n", flags, o->help);
        fprintf(fp, "  %-34s env %s, default %s\n", "", o->env ? o->env : "-",
                o->def ? o->def : "(unset)");
}

/* Is option `name` listed in one of the groups? */
static int in_groups(const mm_config_group_t *groups, size_t n, const char *name) {
        for (size_t g = 0; g < n; g++)
                for (const char *const *p = groups[g].names; p && *p; p++)
                        if (!strcmp(*p, name))
                                return 1;
        return 0;
}

void mm_config_print_help(const mm_config_t *cfg, FILE *fp, const char *usage) {
        mm_config_print_help_groups(cfg, fp, usage, NULL, 0);
}

void mm_config_print_help_groups(const mm_config_t *cfg, FILE *fp, const char *usage,
                                 const mm_config_group_t *groups, size_t n) {
        if (usage)
                fprintf(fp, "%s\n\n", usage);
        fprintf(fp, "Options (flag | environment variable | default):\n");
        for (size_t g = 0; g < n; g++) {
                fprintf(fp, "%s%s:\n", g ? "\n" : "", groups[g].title);
                for (const char *const *p = groups[g].names; p && *p; p++) {
                        long i = find_option(cfg, *p, strlen(*p));
                        if (i >= 0)
                                print_option(&cfg->table[i], fp);
                }
        }
        if (n)
                fprintf(fp, "\nOther:\n");
        for (size_t i = 0; i < cfg->n; i++)
                if (!in_groups(groups, n, cfg->table[i].name))
                        print_option(&cfg->table[i], fp);
        fprintf(fp, "  %-34s %s\n", "-X KEY=VALUE",
                "librdkafka property (repeatable; config file: kafka.KEY=VALUE)");
        fprintf(fp, "  %-34s %s\n", "-h, --help", "show this help");
}

static long must_find(const mm_config_t *cfg, const char *name) {
        long i = find_option(cfg, name, strlen(name));
        if (i < 0) {
                fprintf(stderr, "mm_config: no option named %s\n", name);
                abort();
        }
        return i;
}

const char *mm_config_get_str(const mm_config_t *cfg, const char *name) {
        return cfg->values[must_find(cfg, name)];
}

long long mm_config_get_int(const mm_config_t *cfg, const char *name) {
        long i = must_find(cfg, name);
        long long x = 0;
        if (cfg->values[i] &&
            parse_int(cfg->values[i], cfg->table[i].type == MM_CONFIG_SIZE, &x) != 0)
                x = 0;
        return x;
}

int mm_config_get_bool(const mm_config_t *cfg, const char *name) {
        long i = must_find(cfg, name);
        int b = 0;
        if (cfg->values[i] && parse_bool(cfg->values[i], &b) != 0)
                b = 0;
        return b;
}

char **mm_config_get_list(const mm_config_t *cfg, const char *name, size_t *n) {
        const char *v = cfg->values[must_find(cfg, name)];
        char **items = NULL, *copy = NULL, *save = NULL;
        *n = 0;
        if (!v || !(copy = strdup(v)) || !(items = calloc(strlen(v) / 2 + 2, sizeof(char *)))) {
                if (v)
                        free(copy);
                return NULL;
        }
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *t = trim(tok);
                if (*t && !(items[*n] = strdup(t)))
                        break;
                if (*t)
                        (*n)++;
        }
        free(copy);
        return items;
}

void mm_config_list_free(char **items, size_t n) {
        for (size_t i = 0; items && i < n; i++)
                free(items[i]);
        free(items);
}

size_t mm_config_kafka_count(const mm_config_t *cfg) {
        return cfg->kcount;
}

const char *mm_config_kafka_key(const mm_config_t *cfg, size_t i) {
        return i < cfg->kcount ? cfg->kkeys[i] : NULL;
}

const char *mm_config_kafka_value(const mm_config_t *cfg, size_t i) {
        return i < cfg->kcount ? cfg->kvals[i] : NULL;
}

size_t mm_config_arg_count(const mm_config_t *cfg) {
        return cfg->nargs;
}

const char *mm_config_arg(const mm_config_t *cfg, size_t i) {
        return i < cfg->nargs ? cfg->args[i] : NULL;
}

int mm_config_is_secret_key(const char *key) {
        static const char *const words[] = {"password",    "secret",    "sasl.oauthbearer.config",
                                            "ssl.key.pem", "ssl_key",   "private",
                                            "token",       "sasl.jaas", NULL};
        if (!key)
                return 0;
        char low[256];
        size_t n = 0;
        for (; key[n] && n + 1 < sizeof(low); n++)
                low[n] = (char)tolower((unsigned char)key[n]);
        low[n] = '\0';
        for (size_t i = 0; words[i]; i++)
                if (strstr(low, words[i]))
                        return 1;
        return 0;
}

/* Appends `s` to out[*o], leaving room for the terminating NUL. */
static void append_masked(char *out, size_t *o, size_t out_size, const char *s) {
        for (; *s && *o + 1 < out_size; s++)
                out[(*o)++] = *s;
}

/* The ':' of "user:password" in a URL's authority (after scheme "://"),
 * and the '@' that ends it; both NULL when the URL has no user info or no
 * password. */
static const char *url_password_colon(const char *scheme, const char **atp) {
        const char *auth = scheme + 3;
        const char *slash = strpbrk(auth, "/?");
        const char *at = NULL;
        for (const char *p = auth; *p && (!slash || p < slash); p++)
                if (*p == '@')
                        at = p;
        *atp = at;
        if (!at)
                return NULL;
        for (const char *p = auth; p < at; p++)
                if (*p == ':')
                        return p;
        return NULL;
}

/* A URL: scheme://user:password@host/...?password=...; both passwords
 * become "****". */
static void mask_url(const char *in, const char *scheme, char *out, size_t out_size) {
        size_t o = 0;
        const char *at;
        const char *colon = url_password_colon(scheme, &at);
        const char *p = in;
        while (*p && o + 1 < out_size) {
                if (colon && p == colon + 1) {
                        o--; /* the colon was already copied */
                        append_masked(out, &o, out_size, ":****");
                        p = at;
                        continue;
                }
                /* query parameter password=... */
                if ((p == in || p[-1] == '?' || p[-1] == '&') && !strncasecmp(p, "password=", 9)) {
                        append_masked(out, &o, out_size, "password=****");
                        p += 9;
                        while (*p && *p != '&')
                                p++;
                        continue;
                }
                out[o++] = *p++;
        }
        out[o] = '\0';
}

/* Past a conninfo value at q: a single-quoted string (with backslash
 * escapes) or everything up to the next space. */
static const char *skip_conninfo_value(const char *q) {
        if (*q == '\'') {
                q++;
                while (*q && *q != '\'') {
                        if (*q == '\\' && q[1])
                                q++;
                        q++;
                }
                if (*q)
                        q++;
        } else {
                while (*q && !isspace((unsigned char)*q))
                        q++;
        }
        return q;
}

/* A key=value conninfo: the value of password= becomes "****". */
static void mask_conninfo(const char *in, char *out, size_t out_size) {
        size_t o = 0;
        const char *p = in;
        while (*p && o + 1 < out_size) {
                if ((p == in || isspace((unsigned char)p[-1])) && !strncasecmp(p, "password", 8)) {
                        const char *q = p + 8;
                        while (*q == ' ')
                                q++;
                        if (*q == '=') {
                                q++;
                                while (*q == ' ')
                                        q++;
                                append_masked(out, &o, out_size, "password=****");
                                p = skip_conninfo_value(q);
                                continue;
                        }
                }
                out[o++] = *p++;
        }
        out[o] = '\0';
}

void mm_config_mask_secret(const char *in, char *out, size_t out_size) {
        if (!out_size)
                return;
        out[0] = '\0';
        if (!in)
                return;
        const char *scheme = strstr(in, "://");
        if (scheme)
                mask_url(in, scheme, out, out_size);
        else
                mask_conninfo(in, out, out_size);
}

void mm_config_log(const mm_config_t *cfg) {
        for (size_t i = 0; i < cfg->n; i++) {
                const mm_config_option_t *o = &cfg->table[i];
                char masked[1024];
                const char *v = cfg->values[i];
                if (v && o->secret)
                        mm_config_mask_secret(v, masked, sizeof(masked));
                else
                        snprintf(masked, sizeof(masked), "%s", v ? v : "");
                const char *kv[] = {"option", o->name, "value", v ? masked : NULL, NULL};
                mm_log_kv(MM_LOG_DEBUG, NULL, 0, 0, kv, "config");
        }
        for (size_t i = 0; i < cfg->kcount; i++) {
                const char *v = mm_config_is_secret_key(cfg->kkeys[i]) ? "****" : cfg->kvals[i];
                const char *kv[] = {"kafka_property", cfg->kkeys[i], "value", v, NULL};
                mm_log_kv(MM_LOG_DEBUG, NULL, 0, 0, kv, "config");
        }
}
