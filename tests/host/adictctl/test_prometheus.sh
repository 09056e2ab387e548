#!/bin/sh
# SPDX-License-Identifier: MIT
# export --prometheus: the text exposition format, checked line by line by
# a strict parser; labels from a user's map; escaping; atomic -o.
. "$(dirname "$0")/lib.sh"

$DUMPFMT write "$W/a.adict" 100 web 600 1=5 7=0 42=3 \
	0xffffffffffffffff=18446744073709551615

# A strict reader of the format: HELP and TYPE once per family, before its
# samples; names and labels well formed; values integers; no duplicate series.
cat >"$W/promcheck.py" <<'PY'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
sample = re.compile(r'^(%s)\{([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\} ([0-9]+)$' % name)
seen, series, current, out = {}, set(), None, {}
for line in open(sys.argv[1]).read().split('\n')[:-1]:
    m = re.match(r'^# (HELP|TYPE) (%s) (.*)$' % name, line)
    if m:
        kind, fam, rest = m.groups()
        assert (fam, kind) not in seen, "repeated " + line
        seen[(fam, kind)] = rest
        if kind == 'TYPE':
            assert rest in ('gauge', 'counter', 'untyped'), line
            assert (fam, 'HELP') in seen, "TYPE before HELP: " + line
        current = fam
        continue
    m = sample.match(line)
    assert m, "bad line: %r" % line
    fam, label, value, num = m.groups()
    assert fam == current and (fam, 'TYPE') in seen, "sample outside its family: " + line
    assert (fam, value) not in series, "duplicate series: " + line
    series.add((fam, value))
    out['%s{%s=%s}' % (fam, label, value)] = int(num)
for want in sys.argv[2:]:
    k, v = want.rsplit('=', 1)
    assert out.get(k) == int(v), "%s: %r, wanted %s" % (k, out.get(k), v)
PY
prom() {	# prom DESC "SERIES=VALUE..." CMD...
	desc=$1; want=$2; shift 2
	if ! "$@" >"$W/out" 2>"$W/err"; then t_fail "$desc (command failed)"; return; fi
	# shellcheck disable=SC2086
	if /usr/bin/python3 "$W/promcheck.py" "$W/out" $want 2>>"$W/err"; then
		t_ok "$desc"; else t_fail "$desc"; fi
}

prom "defaults: every key, by number, plus the table's capacity and used keys" \
	'atomic_dict_value{key=1}=5 atomic_dict_value{key=42}=3 atomic_dict_value{key=18446744073709551615}=18446744073709551615 atomic_dict_table_capacity_keys{table=web}=100 atomic_dict_table_used_keys{table=web}=4' \
	"$A" export --prometheus -F "$W/a.adict"
expect 0 "^# TYPE atomic_dict_value gauge$" "gauge by default" \
	"$A" export --prometheus -F "$W/a.adict"
expect 0 "^# HELP atomic_dict_value Values of atomic_dict table web\.$" "default HELP names the table" \
	"$A" export --prometheus -F "$W/a.adict"

printf '# endpoint names\n42 /api/login\n\n1   /  \n99 never_used\n' >"$W/map"
prom "--map: only the mapped keys, under the user's metric and label; absent keys read 0" \
	'http_requests_total{endpoint=/api/login}=3 http_requests_total{endpoint=/}=5 http_requests_total{endpoint=never_used}=0' \
	"$A" export --prometheus -F "$W/a.adict" --metric http_requests_total \
	--label endpoint --map "$W/map" --type counter --help-text "Requests by endpoint."
check "... and nothing else" sh -c "! grep -q '{endpoint=\"7\"}' '$W/out'"
expect 0 "^# TYPE http_requests_total counter$" "--type counter" \
	"$A" export --prometheus -F "$W/a.adict" --metric http_requests_total --map "$W/map" --type counter
expect 0 "^# HELP m Line one\\\\nline two\\\\\\\\$" "HELP text escapes newline and backslash" \
	"$A" export --prometheus -F "$W/a.adict" --metric m --help-text "Line one
line two\\"
prom "--all adds the unmapped keys by number" \
	'atomic_dict_value{key=/api/login}=3 atomic_dict_value{key=7}=0' \
	"$A" export --prometheus -F "$W/a.adict" --map "$W/map" --all
expect 0 "" "--no-table-stats" "$A" export --prometheus -F "$W/a.adict" --no-table-stats
check "... leaves out the table metrics" sh -c "! grep -q atomic_dict_table '$W/out'"

printf '42 say"hi"\\n\n' >"$W/map2"
prom "label values escape quote and backslash" \
	'atomic_dict_value{key=say\"hi\"\\n}=3' \
	"$A" export --prometheus -F "$W/a.adict" --map "$W/map2"

"$A" export --prometheus -F "$W/a.adict" >"$W/stdout.prom"
expect 0 "" "-o FILE" "$A" export --prometheus -F "$W/a.adict" -o "$W/a.prom"
check "-o writes what standard output gets" cmp "$W/stdout.prom" "$W/a.prom"
check "-o leaves no temporary file" sh -c "! ls '$W' | grep -q 'a.prom.tmp'"

printf '42 a\n42 b\n' >"$W/dupkey"
expect 2 "dupkey:2: key mapped twice" "map: a key twice" \
	"$A" export --prometheus -F "$W/a.adict" --map "$W/dupkey"
printf '1 a\n2 a\n' >"$W/duplabel"
expect 2 "duplabel:2: label used twice" "map: a label twice" \
	"$A" export --prometheus -F "$W/a.adict" --map "$W/duplabel"
printf '0 zero\n' >"$W/zero"
expect 2 "zero:1: bad key" "map: key 0" "$A" export --prometheus -F "$W/a.adict" --map "$W/zero"
printf 'justakey\n' >"$W/nolabel"
expect 2 'nolabel:1: expected "KEY LABEL"' "map: no label" \
	"$A" export --prometheus -F "$W/a.adict" --map "$W/nolabel"
finish
