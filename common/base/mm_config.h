/*
 * mm_config: the programs' own options, from ONE table.
 *
 * Each option has a name (the long flag --name and the config-file key),
 * an optional short flag, a type, a default, an environment variable and a
 * help text. Values are taken, lowest precedence first, from: the default,
 * the config file (--config FILE, or the file named by the environment
 * variable of the "config" option, key=value lines, # comments), the
 * environment variable, and the command line. An unknown key in any of
 * them stops start-up with a clear message.
 *
 * -X key=value pairs (and config-file lines `kafka.key=value`) are collected
 * for librdkafka; the caller passes them to rd_kafka_conf_set.
 * Arguments that are not options are kept as positional arguments.
 */
#ifndef MM_CONFIG_H
#define MM_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef enum mm_config_type_e {
        MM_CONFIG_STRING = 0,
        MM_CONFIG_INT,  /* signed 64-bit integer */
        MM_CONFIG_SIZE, /* byte count; accepts suffixes k, KiB, M, MiB, G, GiB */
        MM_CONFIG_BOOL, /* flag without value, or =true/false/1/0/yes/no */
        MM_CONFIG_LIST  /* repeatable: each command-line use adds an item (and replaces the
                         * file's and environment's items); in the file and the environment,
                         * items are separated by commas */
} mm_config_type_t;

/* One row of an option table. A table is a static array owned by the
 * program; it must outlive the mm_config_t made from it. */
typedef struct mm_config_option_s {
        const char *name; /* long name and config-file key */
        char short_name;  /* single-letter flag, or 0 */
        mm_config_type_t type;
        const char *def; /* default as text, or NULL for unset */
        const char *env; /* environment variable, or NULL */
        int secret;      /* 1: value is masked when logged */
        const char *help;
} mm_config_option_t;

typedef struct mm_config_s mm_config_t;

/* Creates a configuration over `table` (`n` rows; borrowed, not copied).
 * Returns NULL on allocation failure. */
mm_config_t *mm_config_new(const mm_config_option_t *table, size_t n);

/* Destroys `cfg`; NULL is allowed. */
void mm_config_destroy(mm_config_t *cfg);

/* Loads defaults, config file, environment and command line (in that
 * precedence, lowest first). `--config FILE` names the config file; `-h`
 * or `--help` sets the help flag (see mm_config_help_requested) and
 * returns 0. Returns -1 and fills errstr on an unknown option or key, a
 * missing value or a bad value. */
int mm_config_load(mm_config_t *cfg, int argc, char **argv, char *errstr, size_t errstr_size);

/* 1 if --help/-h was given. */
int mm_config_help_requested(const mm_config_t *cfg);

/* Prints usage and one line per option (flags, env var, default, help). */
void mm_config_print_help(const mm_config_t *cfg, FILE *fp, const char *usage);

/* A heading of --help and the options under it. */
typedef struct mm_config_group_s {
        const char *title;
        const char *const *names; /* option names, NULL-terminated */
} mm_config_group_t;

/* As mm_config_print_help, with the options under the headings of
 * `groups` (`n` rows, borrowed), in the groups' order; options no group
 * names follow under "Other". */
void mm_config_print_help_groups(const mm_config_t *cfg, FILE *fp, const char *usage,
                                 const mm_config_group_t *groups, size_t n);

/* Value of option `name` (borrowed, valid until destroy), or NULL if unset.
 * Aborts if `name` is not in the table (a programming error). */
const char *mm_config_get_str(const mm_config_t *cfg, const char *name);

/* Integer / size value of `name`; 0 if unset. */
long long mm_config_get_int(const mm_config_t *cfg, const char *name);

/* Boolean value of `name`: 1 or 0. */
int mm_config_get_bool(const mm_config_t *cfg, const char *name);

/* The items of LIST option `name`: a malloc'd array of *n malloc'd
 * strings (trimmed, empty items dropped), NULL with *n = 0 when unset or
 * out of memory. Free with mm_config_list_free. */
char **mm_config_get_list(const mm_config_t *cfg, const char *name, size_t *n);
void mm_config_list_free(char **items, size_t n);

/* Number of librdkafka key=value pairs collected from -X / kafka.* keys. */
size_t mm_config_kafka_count(const mm_config_t *cfg);

/* The i-th librdkafka pair (borrowed). */
const char *mm_config_kafka_key(const mm_config_t *cfg, size_t i);
const char *mm_config_kafka_value(const mm_config_t *cfg, size_t i);

/* Positional (non-option) arguments. */
size_t mm_config_arg_count(const mm_config_t *cfg);
const char *mm_config_arg(const mm_config_t *cfg, size_t i);

/* Logs the effective configuration at info level, secrets masked. */
void mm_config_log(const mm_config_t *cfg);

/* 1 if the librdkafka property `key` holds a secret (password, secret,
 * private key, oauth config, ...). */
int mm_config_is_secret_key(const char *key);

/* Copies a PostgreSQL URL or key=value conninfo, or any URL with a
 * user:password@ part, into `out` with the password replaced by "****".
 * `in` may be NULL (out becomes ""). Always NUL-terminates `out`. */
void mm_config_mask_secret(const char *in, char *out, size_t out_size);

#endif /* MM_CONFIG_H */
