// SPDX-License-Identifier: MIT
/*
 * adictctl - create, inspect, change, back up and export atomic_dict tables.
 *
 * This file is the dispatcher, the one file that knows every command: its
 * options, its synopsis and its help.  It parses the command line against
 * the command's options and the common ones (one table, common_opts[]),
 * answers --help itself, runs the command, and then checks that standard
 * output was written (a full disk or a closed file is EXIT_WRITE).  The
 * commands live in adictctl-{key,dump,view,export}.c and call only the
 * shared helpers; adictctl.h draws the map.  Documentation/adictctl.rst is
 * the manual.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adictctl.h"

#ifndef ADICTCTL_VERSION
#define ADICTCTL_VERSION "unknown"
#endif

/* Every command accepts these. */
static const struct optdef common_opts[] = {
	{ "json", OPT_JSON, false },
	{ "help", OPT_HELP, false },
	{ NULL, 0, false }
};

#define OPT_FILE_DEF	{ "file", OPT_FILE, true }
#define OPT_OUTPUT_DEFS	{ "output", OPT_OUTPUT, true }, \
			{ "output-mode", OPT_OUTPUT_MODE, true }

static const struct optdef create_opts[] = {
	{ "key", 'k', true }, { "value", 'v', true },
	{ "mode", 'm', true }, { "grant", 'g', true }, { "backend", 'b', true },
	{ "load", 'l', true }, { NULL, 0, false }
};
static const struct optdef attach_opts[] = {
	{ "rdonly", 'r', false }, { "mediated", 'm', false },
	{ "owner", OPT_OWNER, true }, { NULL, 0, false }
};
static const struct optdef file_opts[] = {
	OPT_FILE_DEF, { "owner", OPT_OWNER, true }, { NULL, 0, false }
};
static const struct optdef dump_opts[] = {
	OPT_OUTPUT_DEFS, { "text", 't', false }, { "verify", 'V', true },
	OPT_FILE_DEF, { NULL, 0, false }
};
static const struct optdef load_opts[] = {
	{ "name", 'n', true }, { "capacity", 'c', true }, { "mode", 'm', true },
	{ "existing", 'e', false }, { "backend", 'b', true },
	{ NULL, 0, false }
};
static const struct optdef watch_opts[] = {
	{ "interval", 'i', true }, { "count", 'n', true }, OPT_FILE_DEF,
	{ NULL, 0, false }
};
static const struct optdef export_opts[] = {
	{ "prometheus", 'P', false }, { "metric", 'M', true },
	{ "label", 'L', true }, { "map", 'm', true }, { "type", 'T', true },
	{ "help-text", 'H', true }, { "all", 'a', false },
	{ "no-table-stats", 's', false }, OPT_OUTPUT_DEFS, OPT_FILE_DEF,
	{ NULL, 0, false }
};
static const struct optdef no_opts[] = { { NULL, 0, false } };

struct command {
	const char *name;
	int (*fn)(struct ctx *c, const struct args *a);
	const struct optdef *opts;
	int max_pos;		/* positional arguments at most */
	const char *synopsis;
	const char *synopsis2;	/* a second form of the command, or NULL */
	const char *help;
};

static const struct command commands[] = {
	{ "create", cmd_create, create_opts, 2,
	  "NAME CAPACITY [--key u64,u32...] [--value u64|u32|none] [--mode OCTAL] [--grant OPS] [--load 3/4|1/2]", NULL,
	  "Create a named device table for CAPACITY keys and show it.  --key\n"
	  "gives the key's words, u64 ones first (default: one u64), --value the\n"
	  "value's width, or none for a set (default u64).  --mode sets its\n"
	  "permission bits (default 0600); --grant lists the operations that\n"
	  "mediated attachers may run (load,store,swap,add,sub,and,or,xor,cas,\n"
	  "insert,find, or read, or all; default read: load,find).  Without\n"
	  "insert they change existing keys only.  --load 1/2 gives CAPACITY keys\n"
	  "twice as many rows as keys (1.5 times the memory of the default 3/4)\n"
	  "for shorter probes.  The table lives until unlinked." },
	{ "attach", cmd_attach, attach_opts, 1,
	  "NAME [--rdonly | --mediated] [--owner UID]", NULL,
	  "Attach to a named table with the given access (read-write by default)\n"
	  "and show it: a check that you may use the table that way.  --owner\n"
	  "refuses a table that uid UID does not own (info, get, set, add, cas\n"
	  "and insert take it too): use it for well-known names." },
	{ "list", cmd_list, no_opts, 0, "", NULL,
	  "List the device's tables that you may attach (from " ADICTCTL_PROC_PATH "):\n"
	  "owner and group by name, memory in binary units, columns as wide as\n"
	  "needed." },
	{ "usage", cmd_usage, no_opts, 0, "", NULL,
	  "Show the module's limits and what is charged against them: all\n"
	  "tables, and the tables charged to your quota owner." },
	{ "info", cmd_info, file_opts, 1, "NAME | -F DUMPFILE", NULL,
	  "Show a table: backend, access, capacity, keys used, key and value\n"
	  "geometry, memory, owner.  With -F, the name is the one the dump saved." },
	{ "get", cmd_get, file_opts, 1 + GET_MAX_KEYS, "NAME | -F DUMPFILE  KEY...", NULL,
	  "Print the value of each KEY (0 when absent; for a set, 1 if present).\n"
	  "Never inserts a key.  One KEY prints its value; several print KEY VALUE\n"
	  "lines.  A composite KEY is its words joined by commas: 7,9." },
	{ "set", cmd_set, file_opts, 3, "NAME KEY VALUE", NULL, "Store VALUE at KEY." },
	{ "add", cmd_add, file_opts, 3, "NAME KEY DELTA", NULL,
	  "Add DELTA (may be negative; values wrap modulo 2^64, or 2^32 for u32\n"
	  "values) to KEY and print the new value." },
	{ "cas", cmd_cas, file_opts, 4, "NAME KEY EXPECTED DESIRED", NULL,
	  "If KEY holds EXPECTED, store DESIRED.  Prints the value KEY holds\n"
	  "afterwards; exits 0 if it swapped, 1 if it did not." },
	{ "insert", cmd_insert, file_opts, 2, "NAME KEY", NULL,
	  "Insert KEY (value 0) if absent: the way to fill a set.  Prints 1 if\n"
	  "the key is new, 0 if it was present." },
	{ "dump", cmd_dump, dump_opts, 1,
	  "NAME | -F DUMPFILE  [-o FILE] [--text] [--output-mode OCTAL]",
	  "--verify FILE",
	  "Save a table to a dump file (Documentation/dump-format.rst), to FILE\n"
	  "or to standard output.  A regular FILE is replaced atomically (written\n"
	  "beside it, fsync()ed, renamed), with the table's permission bits\n"
	  "(owner read-write added; 0600 without a mode) or --output-mode; a\n"
	  "device or FIFO is written in place; a symlink to a file is refused.\n"
	  "--text writes the text form, which load reads back.  --verify checks\n"
	  "a dump file (either form) and describes it." },
	{ "load", cmd_load, load_opts, 1,
	  "FILE [--name NAME] [--capacity N] [--mode OCTAL] [--existing]",
	  "--backend memfd FILE",
	  "Restore a dump (binary or text): create the table with its saved name,\n"
	  "capacity and mode (or those given), then store every pair.  --existing\n"
	  "stores into an existing table instead.  --backend memfd loads the dump\n"
	  "into a private table of this process only, to check that it restores." },
	{ "restore", cmd_load, load_opts, 1,
	  "FILE [--name NAME] [--capacity N] [--mode OCTAL] [--existing]",
	  "--backend memfd FILE",
	  "Another name for load." },
	{ "unlink", cmd_unlink, no_opts, 1, "NAME", NULL,
	  "Remove a table's name.  The table is freed when its last user goes." },
	{ "watch", cmd_watch, watch_opts, 1,
	  "NAME | -F DUMPFILE  [--interval SECONDS] [--count N]", NULL,
	  "Show the keys whose values change, every interval (default 1 s),\n"
	  "N times (default: until interrupted)." },
	{ "export", cmd_export, export_opts, 1,
	  "--prometheus NAME | -F DUMPFILE  [OPTIONS]", NULL,
	  "Print the table in the Prometheus text format: one sample per key,\n"
	  "METRIC{LABEL=\"KEY\"} VALUE, after the table's capacity and used keys.\n"
	  "  --metric M        metric name (default atomic_dict_value)\n"
	  "  --label L         label name (default key)\n"
	  "  --map FILE        lines \"KEY LABELVALUE\": only those keys, so named\n"
	  "  --all             with --map: the unmapped keys too, by number\n"
	  "  --type T          gauge (default), counter or untyped\n"
	  "  --help-text TEXT  the # HELP line\n"
	  "  --no-table-stats  leave out the capacity and used-keys metrics\n"
	  "  -o FILE           write FILE as dump -o does (node_exporter textfile)\n"
	  "  --output-mode M   its permission bits\n"
	  "With --json (and -o), print what was written." },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int command_help(const struct command *cmd)
{
	printf("usage: adictctl %s %s\n", cmd->name, cmd->synopsis);
	if (cmd->synopsis2)
		printf("       adictctl %s %s\n", cmd->name, cmd->synopsis2);
	printf("\n%s\n\nEvery command takes --json (machine-readable output, errors as JSON\non standard error) and --help.\n",
	       cmd->help);
	return EXIT_OK;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: adictctl [--json] COMMAND [ARGS]\n       adictctl --version\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++) {
		fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].synopsis);
		if (commands[i].synopsis2)
			fprintf(f, "  %-7s %s\n", commands[i].name,
				commands[i].synopsis2);
	}
	fprintf(f, "\n'adictctl COMMAND --help' describes a command; adictctl(8) is the manual.\n");
}

/*
 * For the bash completion (tools/packaging/adictctl.bash-completion):
 * "__complete" prints the commands, "__complete CMD" the command's options.
 */
static int complete_words(int argc, char **argv)
{
	const struct command *cmd;
	const struct optdef *d;
	size_t i;

	if (argc < 1) {
		for (i = 0; i < NCOMMANDS; i++)
			printf("%s\n", commands[i].name);
		printf("help\n");
		return EXIT_OK;
	}
	cmd = find_command(argv[0]);
	if (!cmd)
		return EXIT_USAGE;
	for (d = cmd->opts; d->name; d++)
		printf("--%s%s\n", d->name, d->has_arg ? "=" : "");
	for (d = common_opts; d->name; d++)
		printf("--%s\n", d->name);
	return EXIT_OK;
}

/* Standard output must have reached its file: a full disk is an error. */
static int close_stdout(const struct ctx *c, int ret)
{
	int err = 0;

	errno = 0;
	if (fflush(stdout) || ferror(stdout))
		err = errno ? -errno : -EIO;
	if (fclose(stdout) && !err)
		err = errno ? -errno : -EIO;
	if (!err)
		return ret;
	die_output(c, err, NULL);
	return ret ? ret : EXIT_WRITE;
}

static int run(struct ctx *c, const struct command *cmd, int argc, char **argv)
{
	struct args a;
	int ret;

	c->cmd = cmd->name;
	ret = parse_args(c, cmd->opts, common_opts, argc, argv, &a);
	if (ret)
		return ret;
	if (a.npos > cmd->max_pos && !arg_flag(&a, OPT_HELP)) {
		ret = usage_error(c, "unexpected argument '%s'", a.pos[cmd->max_pos]);
		free_args(&a);
		return ret;
	}
	if (arg_flag(&a, OPT_JSON)) {
		c->json = true;
		msg_json(true);
	}
	ret = arg_flag(&a, OPT_HELP) ? command_help(cmd) : cmd->fn(c, &a);
	free_args(&a);
	return ret;
}

int main(int argc, char **argv)
{
	struct ctx c = { .cmd = "" };
	const struct command *cmd;
	int i = 1, ret;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			c.json = true;
			msg_json(true);
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return close_stdout(&c, EXIT_OK);
		} else if (!strcmp(argv[i], "--version")) {
			printf("adictctl %s\n", ADICTCTL_VERSION);
			return close_stdout(&c, EXIT_OK);
		} else {
			errmsg("unknown option '%s'", argv[i]);
			if (!c.json)
				usage(stderr);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (i >= argc) {
		if (c.json)
			errmsg("give a COMMAND; 'adictctl help' lists them");
		else
			usage(stderr);
		ret = EXIT_USAGE;
		goto out;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return close_stdout(&c, EXIT_OK);
	}
	if (!strcmp(argv[i], "__complete"))
		return close_stdout(&c, complete_words(argc - i - 1, argv + i + 1));
	cmd = find_command(argv[i]);
	if (!cmd) {
		errmsg("unknown command '%s'", argv[i]);
		if (!c.json)
			usage(stderr);
		ret = EXIT_USAGE;
		goto out;
	}
	ret = close_stdout(&c, run(&c, cmd, argc - i - 1, argv + i + 1));
out:
	msg_flush(&c, ret);
	return ret;
}
