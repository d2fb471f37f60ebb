#!/usr/bin/env python3
"""Mutation testing of the library: is there a test that notices each change?

For each file given (lib/hb.c, ...) this makes every mutant of one of these
kinds, one textual change at one place of one line:

  cmp     a comparison moved or negated: < to <= and to >=, == to !=, ...
  logic   && to ||, and || to &&
  off1    a "+ 1" or "- 1" dropped; a "+ 1" added to the right side of a
          comparison, to an assignment's value, or to a returned value
  const   an integer constant replaced: 0 by 1, 1 by 0 (or by 2 where it is
          added or subtracted), n by n + 1 and n - 1
  delete  a statement removed

Comments, string and character literals, preprocessor lines, _Static_assert
and code in a branch of #if that this build does not compile are never
changed. Each mutant's object replaces the library's one in a runner of the
fast suites (tests/mutate.mk), which runs with CK_FORK=yes, in a private
network and PID namespace where the system allows one, the file's own suites
first, built with LeakSanitizer (--sanitizer address: AddressSanitizer) where
it works here; it is killed when a test fails, crashes or leaks, or when a
suite outlasts its time limit (a hang), and survives when every test passes.
A survivor that deleted a statement is built once more with its
uninitialized variables zeroed instead of filled with a pattern; if that
changes the outcome it read a variable it never set, and counts as killed. One that does not compile is stillborn: reported, and
left out of the score.

  score = killed / (mutants - stillborn - equivalent)

where equivalent mutants are the ones listed in tests/mutants-equivalent.txt
(its head says how), which no test can kill because they do not change what
the program does. Everything happens in a copy of the tree in a scratch
directory, so this tree is never modified.

The exit status is 1 if, in a full run, a file scores under --floor (90 %),
or if, with --sample, any sampled mutant survives that is not listed as
equivalent; 2 if the unmutated tree fails its own tests.
"""
import argparse
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EQUIVALENT = 'tests/mutants-equivalent.txt'

# The suites that test each file run first, so that most mutants die early.
FIRST = {
    'lib/plan.c': ['tcp'],
    'lib/tcp.c': ['tcp'],
    'lib/hb.c': ['hb', 'group'],
    'lib/group.c': ['group', 'oom'],
    'lib/diagnose.c': ['diagnose', 'tcp'],
    'lib/time.c': ['time'],
    'lib/error.c': ['time'],
}

TOKEN = re.compile(r'<<=|>>=|->|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|[-+*/%&|^]=|'
                   r'[A-Za-z_]\w*|0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|\S')
NUMBER = re.compile(r'(0[xX])?([0-9a-fA-F]+)([uUlL]*)$')
CMP = {'<': ['<=', '>='], '<=': ['<', '>'], '>': ['>=', '<='], '>=': ['>', '<'],
       '==': ['!='], '!=': ['==']}
ASSIGN = {'=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>='}
# A statement beginning with one of these is not one to delete or add to.
NOT_STATEMENT = {'case', 'default', 'else', 'if', 'for', 'while', 'do', 'switch', 'typedef'}
DECL_START = {'const', 'static', 'volatile', 'register', 'struct', 'enum', 'union', 'unsigned',
              'signed', 'extern', 'inline', '__extension__'}
KEYWORDS = NOT_STATEMENT | {'return', 'goto', 'break', 'continue', 'sizeof'}


def norm(s):
    """A line's text for matching: whitespace runs made one space, ends dropped."""
    return ' '.join(s.split())


@dataclass
class Mutant:
    file: str
    line: int  # 1-based
    col: int  # 1-based
    func: str  # the enclosing function, or "-" at file scope
    op: str
    before: str  # the whole original line
    after: str  # the whole mutated line
    prev: str = ''  # the previous line of code, to tell identical lines apart
    status: str = ''  # killed, timeout, survived, stillborn
    equivalent: bool = False
    uninit: bool = False  # killed only once its unset variables were zeros

    def key(self):
        return (self.file, self.func, self.op, norm(self.before), norm(self.after))

    def where(self):
        return f'{self.file}:{self.line}'


# ---- reading C, just enough ----

def blank_non_code(text):
    """The text's lines with comments and the insides of literals blanked (same
    columns), and per line whether it is to be left alone (preprocessor,
    _Static_assert)."""
    lines = text.split('\n')
    code, skip = [], []
    in_comment = pp_cont = False
    assert_depth = None  # paren depth inside a _Static_assert, or None
    for raw in lines:
        out, i, n = [], 0, len(raw)
        while i < n:
            if in_comment:
                if raw.startswith('*/', i):
                    in_comment = False
                    out.append('  ')
                    i += 2
                else:
                    out.append(' ')
                    i += 1
            elif raw.startswith('/*', i):
                in_comment = True
                out.append('  ')
                i += 2
            elif raw.startswith('//', i):
                out.append(' ' * (n - i))
                i = n
            elif raw[i] in '"\'':
                quote = raw[i]
                out.append(quote)
                i += 1
                while i < n and raw[i] != quote:
                    step = 2 if raw[i] == '\\' else 1
                    out.append(' ' * min(step, n - i))
                    i += step
                if i < n:
                    out.append(quote)
                    i += 1
            else:
                out.append(raw[i])
                i += 1
        c = ''.join(out)
        pp = pp_cont or c.lstrip().startswith('#')
        pp_cont = pp and raw.rstrip().endswith('\\')
        if assert_depth is None and '_Static_assert' in c:
            assert_depth = 0
        in_assert = assert_depth is not None
        if in_assert:
            assert_depth += c.count('(') - c.count(')')
            if assert_depth <= 0 and ';' in c:
                assert_depth = None
        code.append(c)
        skip.append(pp or in_assert)
    return lines, code, skip


def tokens(code):
    return [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(code)]


def functions(code, skip):
    """Per line, the name of the function (or file-scope definition) it is in."""
    names, depth, pending, current = [], 0, '-', '-'
    for c, s in zip(code, skip):
        if not s and depth == 0 and c[:1] and not c[0].isspace() and c[0] not in '{}':
            # A function's name, or the name a file-scope definition declares.
            m = re.search(r'([A-Za-z_]\w*)\s*\(', c) or \
                re.search(r'([A-Za-z_]\w*)\s*(\[[^]]*\]\s*)*[={;]', c)
            pending = m.group(1) if m else '-'
        names.append(current if depth > 0 else pending)
        if s:
            continue
        for ch in c:
            if ch == '{':
                if depth == 0:
                    current = pending
                depth += 1
            elif ch == '}':
                depth -= 1
                if depth == 0:
                    current = '-'
    return names


def operand_end(code, toks, i):
    """Index in code just past the simple operand that starts at token i (a
    name or number followed by ->x, .x, [..] or (..)), or None."""
    if i >= len(toks):
        return None
    t = toks[i][0]
    if t == '(':
        j = match_paren(toks, i)
    elif re.match(r'[A-Za-z_\d]', t) and t not in KEYWORDS:
        j = i
    else:
        return None
    while j is not None and j + 1 < len(toks):
        nxt = toks[j + 1][0]
        if nxt in ('->', '.') and j + 2 < len(toks):
            j += 2
        elif nxt in ('[', '('):
            j = match_paren(toks, j + 1)
        else:
            break
    return None if j is None else toks[j][2]


def match_paren(toks, i):
    pairs = {'(': ')', '[': ']'}
    depth, opener = 0, toks[i][0]
    for j in range(i, len(toks)):
        if toks[j][0] == opener:
            depth += 1
        elif toks[j][0] == pairs[opener]:
            depth -= 1
            if depth == 0:
                return j
    return None


def starts_statement(prev_code):
    """Does a line after prev_code (the previous line of code) start a statement?"""
    p = prev_code.rstrip()
    return p == '' or p[-1] in ';{}:)' or p.endswith('else') or p.endswith('do')


def is_declaration(toks):
    if not toks:
        return False
    if toks[0][0] in DECL_START:
        return True
    if len(toks) < 2 or not re.match(r'[A-Za-z_]', toks[0][0]) or toks[0][0] in KEYWORDS:
        return False
    second = toks[1][0]
    return bool(re.match(r'[A-Za-z_]', second)) or (
        second == '*' and len(toks) > 2 and re.match(r'[A-Za-z_*]', toks[2][0]))


def balanced(toks):
    depth = 0
    for t, _, _ in toks:
        depth += t in '([' and len(t) == 1
        depth -= t in ')]' and len(t) == 1
        if depth < 0:
            return False
    return depth == 0


def number_value(tok):
    m = NUMBER.match(tok)
    if not m or (not m.group(1) and not m.group(2).isdigit()):
        return None
    return int(m.group(2), 16 if m.group(1) else 10), m.group(1) or '', m.group(3)


def format_number(value, prefix, suffix):
    return (prefix + format(value, 'x') if prefix else str(value)) + suffix


def compiled_lines(rel, compile_template):
    """The lines of rel that the compiler sees, as the build compiles it: code
    in a branch of #if that is not taken here is no mutant's place."""
    cmd = []
    for w in compile_template:
        if w == '-c':
            cmd.append('-E')
        elif w in ('@OBJ@', '@SRC@'):
            cmd.append('/dev/stdout' if w == '@OBJ@' else rel)
        else:
            cmd.append(w)
    out = subprocess.run(cmd, cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    if out.returncode != 0:
        sys.exit(f'mutate: {rel} does not preprocess: {" ".join(cmd)}')
    seen, here, line = set(), False, 0
    for text in out.stdout.split('\n'):
        m = re.match(r'# (\d+) "([^"]*)"', text)
        if m:
            here, line = m.group(2) == rel, int(m.group(1))
            continue
        if here and text.strip():
            seen.add(line)
        line += 1
    return seen


def make_commands():
    """What tests/mutate.mk says to run for a mutant, read from this tree
    (make only prints here: nothing is built)."""
    env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
    r = subprocess.run(['make', '--no-print-directory', '-s', '-C', TOP, 'WERROR=', 'SANITIZE=',
                        'CFLAGS=-O2', 'mutate-commands'], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit(f'mutate: make mutate-commands failed:\n{r.stdout}')
    return dict(line.split(' ', 1) for line in r.stdout.splitlines() if ' ' in line)


def splice(raw, a, b, text):
    """raw with its characters a to b replaced by text."""
    return raw[:a] + text + raw[b:]


def mutants_of(path, rel, compiled=None):
    """Every mutant of the file at path (called rel in reports), skipping the
    lines not in compiled when that is given."""
    with open(path) as f:
        text = f.read()
    lines, code, skip = blank_non_code(text)
    funcs = functions(code, skip)
    found, seen = [], set()
    prev = ''

    def add(ln, col, op, after):
        if after == lines[ln] or (ln, after) in seen:
            return
        seen.add((ln, after))
        found.append(Mutant(rel, ln + 1, col + 1, funcs[ln], op, lines[ln], after,
                            lines[prev_line]))

    for ln, (raw, c) in enumerate(zip(lines, code)):
        if skip[ln] or not c.strip() or (compiled is not None and ln + 1 not in compiled):
            continue
        toks = tokens(c)
        new_statement = starts_statement(prev)
        prev_line = next((k for k in range(ln - 1, -1, -1) if code[k].strip()), ln)
        prev = c
        for i, (t, a, b) in enumerate(toks):
            before_tok = toks[i - 1][0] if i > 0 else ''
            after_tok = toks[i + 1][0] if i + 1 < len(toks) else ''
            if t in CMP:
                for r in CMP[t]:
                    add(ln, a, 'cmp', splice(raw, a, b, r))
                # Adding 1 to a constant is the const operator's n + 1; to NULL, nonsense.
                end = None if re.match(r'\d', after_tok) or after_tok == 'NULL' else \
                    operand_end(c, toks, i + 1)
                rest = c[end:].lstrip()[:2] if end is not None else ''
                if end is not None and (rest == '' or rest[0] in ');,?:' or rest in ('&&', '||')):
                    add(ln, a, 'off1', splice(raw, end, end, ' + 1'))
            elif t in ('&&', '||'):
                add(ln, a, 'logic', splice(raw, a, b, '||' if t == '&&' else '&&'))
            elif re.match(r'\d', t):
                nv = number_value(t)
                if nv is None or c[b:b + 1] == '.' or c[a - 1:a] == '.':
                    continue
                value, prefix, suffix = nv
                binary = before_tok in ('+', '-') and i >= 2 and (
                    re.match(r'[\w)\]]', toks[i - 2][0]) is not None)
                if value == 1 and binary and after_tok not in ('*', '/', '%'):
                    # Dropping "+ 1" / "- 1" is the off1 operator; 1 by 2 stays const.
                    start = toks[i - 1][1]
                    while start > 0 and raw[start - 1] in ' \t':
                        start -= 1
                    add(ln, start, 'off1', raw[:start] + raw[b:])
                    add(ln, a, 'const', splice(raw, a, b, format_number(2, prefix, suffix)))
                    continue
                for v in ([1] if value == 0 else [0] if value == 1 else [value + 1, value - 1]):
                    add(ln, a, 'const', splice(raw, a, b, format_number(v, prefix, suffix)))
        # Whole statements: delete one, or add 1 to what it assigns or returns.
        body = toks
        if body and body[0][0] == 'else':
            body = body[1:]
        if not (new_statement and body and c.rstrip().endswith(';') and balanced(body)
                and not any(t in ('{', '}') for t, _, _ in body)
                and body[0][0] not in NOT_STATEMENT and re.match(r'[\w*(]', body[0][0])):
            continue
        first, semi = body[0], body[-1]
        next_code = next((code[k] for k in range(ln + 1, len(code)) if code[k].strip()), '')
        ends_function = next_code.startswith('}')
        declaration = is_declaration(body)
        if not declaration and not (first[0] == 'return' and ends_function):
            add(ln, first[1], 'delete', raw[:first[1]] + ';' + raw[semi[2]:])
        if first[0] == 'return' and len(body) > 2:
            expr = raw[body[1][1]:semi[1]].rstrip()
            add(ln, body[1][1], 'off1', raw[:body[1][1]] + f'({expr}) + 1' + raw[semi[1]:])
            continue
        depth, at = 0, None
        for k, (t, a, b) in enumerate(body):
            depth += t in ('(', '[')
            depth -= t in (')', ']')
            if depth == 0 and t in ASSIGN:
                at = k
                break
        if at is None:
            continue
        rhs = body[at + 1:-1]
        # Adding 1 to a lone constant is the const operator's n + 1.
        depth, simple = 0, bool(rhs) and not (len(rhs) == 1 and re.match(r'\d|NULL$', rhs[0][0]))
        for t, _, _ in rhs:
            depth += t in ('(', '[')
            depth -= t in (')', ']')
            if depth == 0 and (t in CMP or t in ('?', ',', '&&', '||') or t in ASSIGN):
                simple = False
        if simple:
            add(ln, semi[1], 'off1', raw[:semi[1]].rstrip() + ' + 1' + raw[semi[1]:])
    return found


# ---- the list of equivalent mutants ----

@dataclass
class Entry:
    file: str
    func: str
    op: str
    before: str
    after: str
    why: str
    line: int  # in the list, for messages
    prev: str = None  # the line of code before, when the line's text is not unique
    used: bool = False

    def key(self):
        return (self.file, self.func, self.op, norm(self.before), norm(self.after))

    def matches(self, m):
        return self.prev is None or norm(self.prev) == norm(m.prev)


def read_equivalent(path):
    """Entries are blank-line separated: "FILE FUNCTION OPERATOR", "- LINE",
    "+ LINE", "why: REASON" (continued on indented lines), and "after: LINE"
    (the line of code before) where the function holds the line twice. # starts
    a comment."""
    entries, errors = [], []
    if not os.path.exists(path):
        return entries, errors
    with open(path) as f:
        raw = f.read().split('\n')
    block, start = [], 0
    for n, line in enumerate(raw + [''], 1):
        if line.startswith('#'):
            continue
        if line.strip():
            if not block:
                start = n
            block.append(line)
            continue
        if not block:
            continue
        head = block[0].split()
        minus = [b[2:] for b in block if b.startswith('- ')]
        plus = [b[2:] for b in block if b.startswith('+ ')]
        why = [b for b in block if b.startswith('why:')]
        prev = [b[6:] for b in block if b.startswith('after:')]
        more = [b.strip() for b in block if b[:1] in ' \t']
        if len(head) != 3 or len(minus) != 1 or len(plus) != 1 or len(why) != 1:
            errors.append(f'{path}:{start}: an entry needs "FILE FUNCTION OPERATOR", '
                          '"- LINE", "+ LINE" and "why: REASON"')
        elif not why[0][4:].strip():
            errors.append(f'{path}:{start}: the entry gives no reason')
        else:
            entries.append(Entry(head[0], head[1], head[2], minus[0], plus[0],
                                 ' '.join([why[0][4:].strip()] + more), start,
                                 prev[0] if prev else None))
        block = []
    return entries, errors


def entry_text(m, ambiguous):
    after = f'after: {m.prev.strip()}\n' if m.key() in ambiguous else ''
    return f'{m.file} {m.func} {m.op}\n- {m.before.strip()}\n+ {m.after.strip()}\n{after}why: \n'


# ---- building and running ----

class Runner:
    def __init__(self, args, scratch):
        self.args = args
        self.scratch = scratch
        self.src = os.path.join(scratch, 'src')
        self.build = os.path.join(scratch, 'build')
        self.lock = threading.Lock()
        self.procs = set()
        self.prefix = []
        self.stopping = False

    def make(self, flags, *targets):
        env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
        cmd = ['make', '--no-print-directory', '-s', '-C', self.src, f'-j{self.args.jobs}',
               f'BUILD={self.build}', f'CFLAGS=-O2 {flags}', f'LDFLAGS={flags}', 'WERROR=',
               'SANITIZE=', 'V='] + list(targets)
        return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)

    def setup(self):
        def ignore(directory, names):
            # Build directories and git's, at the top; objects and counts anywhere.
            top = os.path.samefile(directory, TOP)
            return [n for n in names if (top and (n == '.git' or n.startswith('build'))) or
                    n.endswith(('.o', '.gcda', '.gcno'))]

        shutil.copytree(TOP, self.src, ignore=ignore, symlinks=True)
        self.prefix = self.isolation()
        # LeakSanitizer, where it works here: a mutant that drops a free()
        # leaks, which CI's valgrind and ASan runs would catch; with it, the
        # forked test that leaks exits with an error too. --sanitizer
        # address takes AddressSanitizer instead, which also kills a mutant
        # that reads or writes past an allocation and passes by luck without
        # it (slack at the end of a block, a neighbour that happens to be
        # zero), at several times the cost per mutant.
        for flags in (f'-fsanitize={self.args.sanitizer}', ''):
            self.build = os.path.join(self.scratch,
                                      'build-' + flags.split('=')[1] if flags else 'build')
            r = self.make(flags, 'mutate-runner')
            if r.returncode != 0:
                if flags:
                    continue
                sys.exit(f'mutate: the unmutated tree does not build:\n{r.stdout}')
            r = self.make(flags, 'mutate-commands')
            info = dict(line.split(' ', 1) for line in r.stdout.splitlines() if ' ' in line)
            self.compile = shlex.split(info['compile'])
            self.link = shlex.split(info['link'])
            self.objects = shlex.split(info['objects'])
            self.suites = info['suites'].split()
            self.runner = info['runner']
            self.times, failed = self.baseline()
            if not failed:
                break
            if flags:
                print(f'mutate: the unmutated suite {failed} fails under {flags} here; '
                      'trying without', flush=True)
                continue
            sys.stderr.write(f'mutate: the unmutated tree fails suite {failed}: fix that first\n')
            sys.exit(2)
        self.leaks = bool(flags)
        self.sanitizer = flags.split('=')[1] if flags else ''
        self.extra = ['-w']
        # A mutant that deletes an initialization reads an indeterminate
        # variable, which the optimizer may leave holding the right value by
        # luck: fill such variables with a pattern instead, where the
        # compiler can, so the fault shows.
        probe = self.compile_cmd(os.path.join(self.src, 'lib', 'time.c'),
                                 os.path.join(self.scratch, 'probe.o'))
        pattern = ['-ftrivial-auto-var-init=pattern']
        if subprocess.run(probe + pattern, cwd=self.src, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            self.extra += pattern

    def compile_cmd(self, src, obj):
        fill = {'@SRC@': src, '@OBJ@': obj}
        return [fill.get(w, w) for w in self.compile]

    def isolation(self):
        """A private network and PID namespace for each run, when allowed: a
        run then sees no other test's sockets, and a hung one dies whole. The
        PID namespace gets its own /proc, which LeakSanitizer reads."""
        inner = ['sh', '-c', 'ip link set lo up && exec "$@"', 'sh']
        for extra in ([], ['--map-root-user']):
            cmd = ['unshare', '--net', '--pid', '--fork', '--kill-child', '--mount-proc'] + \
                extra + inner
            try:
                if subprocess.run(cmd + ['true'], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=20).returncode == 0:
                    return cmd
            except (OSError, subprocess.TimeoutExpired):
                pass
        print('mutate: no private namespaces here; runs share the host network', flush=True)
        return []

    def descendants(self, pid):
        """Every live process under pid, from /proc, so that a kill misses
        none that left its process group (Check puts each test in its own)."""
        children = {}
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                with open(f'/proc/{d}/stat') as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            for c in children.get(p, []):
                out.append(c)
                todo.append(c)
        return out

    def kill(self, proc):
        for pid in [proc.pid] + self.descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def run_suite(self, binary, suite, timeout):
        """'pass', 'fail' or 'timeout': the suite's run, stopped at its first failing test."""
        env = dict(os.environ, CK_RUN_SUITE=suite, CK_FORK='yes', CK_VERBOSITY='silent',
                   CK_TAP_LOG_FILE_NAME='-')
        env.pop('CK_RUN_CASE', None)
        proc = subprocess.Popen(self.prefix + [binary], cwd=self.src, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        with self.lock:
            self.procs.add(proc)
        timed_out = threading.Event()

        def expire():
            timed_out.set()
            self.kill(proc)

        timer = threading.Timer(timeout, expire)
        timer.start()
        failed = False
        try:
            for line in proc.stdout:
                if line.startswith('not ok'):
                    failed = True
                    self.kill(proc)
                    break
            proc.stdout.close()
            proc.wait()
        finally:
            timer.cancel()
            with self.lock:
                self.procs.discard(proc)
        if timed_out.is_set():
            return 'timeout'
        return 'fail' if failed or proc.returncode != 0 else 'pass'

    def order(self, rel):
        first = [s for s in FIRST.get(rel, []) if s in self.suites]
        return first + [s for s in self.suites if s not in first]

    def baseline(self):
        """Each suite's time on the unmutated tree, and the first that fails, if any."""
        times = {}
        for s in self.suites:
            t = time.monotonic()
            r = self.run_suite(self.runner, s, 600)
            times[s] = time.monotonic() - t
            if r != 'pass':
                return times, s
        return times, None

    def test(self, m, slot, timeouts):
        """Build and run mutant m in worker slot's directory; sets m.status."""
        if self.stopping:
            return
        work = os.path.join(self.scratch, f'w{slot}')
        os.makedirs(work, exist_ok=True)
        name = os.path.basename(m.file)
        src = os.path.join(os.path.dirname(os.path.join(self.src, m.file)), f'.mutant{slot}-{name}')
        obj = os.path.join(work, name[:-2] + '.o')
        out = os.path.join(work, 'check_fast')
        with open(os.path.join(self.src, m.file)) as f:
            lines = f.read().split('\n')
        lines[m.line - 1] = m.after
        with open(src, 'w') as f:
            f.write('\n'.join(lines))
        mine = os.path.join(self.build, m.file[:-2] + '.o')
        objs = [obj if os.path.join(self.src, o) == mine else o for o in self.objects]
        ld = []
        for w in self.link:
            ld.extend(objs if w == '@LIB@' else [out if w == '@OUT@' else w])
        # A survivor that deleted a statement (the one kind of change that can
        # leave a variable unset) is built again with its uninitialized
        # variables as zeros, where they were a pattern: if that changes the
        # outcome, it reads a variable it never set, and a test sees it.
        inits = [self.extra]
        if '-ftrivial-auto-var-init=pattern' in self.extra and m.op == 'delete':
            inits.append([w for w in self.extra if not w.startswith('-ftrivial')] +
                         ['-ftrivial-auto-var-init=zero'])
        for n, extra in enumerate(inits):
            for cmd in (self.compile_cmd(src, obj) + extra, ld):
                if subprocess.run(cmd, cwd=self.src, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode != 0:
                    m.status = 'stillborn'
                    return
            for s in self.order(m.file):
                r = self.run_suite(out, s, timeouts[s])
                if r != 'pass':
                    m.status = 'killed' if r == 'fail' else 'timeout'
                    m.uninit = n > 0
                    return
        m.status = 'survived'

    def stop(self):
        self.stopping = True
        with self.lock:
            for p in list(self.procs):
                self.kill(p)


# ---- the report ----

def diff(m):
    return f'  - {m.before.strip()}\n  + {m.after.strip()}'


def summarize(files, mutants, sample):
    rows = []
    head = ('file', 'mutants', 'stillborn', 'killed', 'survived', 'equivalent', 'score')
    rows.append('%-16s %8s %10s %7s %9s %11s %7s' % head)
    scores = {}
    for f in files:
        ms = [m for m in mutants if m.file == f]
        still = sum(m.status == 'stillborn' for m in ms)
        eq = sum(m.equivalent and m.status != 'stillborn' for m in ms)
        killed = sum(m.status in ('killed', 'timeout') and not m.equivalent for m in ms)
        timeouts = sum(m.status == 'timeout' and not m.equivalent for m in ms)
        survived = sum(m.status == 'survived' and not m.equivalent for m in ms)
        scored = killed + survived
        scores[f] = killed / scored if scored else 1.0
        rows.append('%-16s %8d %10d %7s %9d %11d %6.1f%%' % (
            f, len(ms), still, f'{killed}' + (f'({timeouts}t)' if timeouts else ''), survived, eq,
            100 * scores[f]))
    kind = 'sampled ' if sample else ''
    rows.append(f'(killed counts the {kind}mutants killed by a time limit too, as (Nt); '
                'score = killed / (mutants - stillborn - equivalent))')
    return '\n'.join(rows), scores


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('files', nargs='+', help='library files to mutate, e.g. lib/plan.c')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--sample', type=int, help='test only this many mutants, picked at random')
    ap.add_argument('--seed', type=int, help='seed of the sample (printed when not given)')
    ap.add_argument('--floor', type=float, default=90.0, help='per-file score a full run needs')
    ap.add_argument('--timeout', type=float, default=10.0,
                    help='a suite may run 5 times as long as unmutated, and at least this '
                    'many seconds, before its mutant counts as hung')
    ap.add_argument('--report', help='write the survivors and the summary here')
    ap.add_argument('--equivalent', default=os.path.join(TOP, EQUIVALENT))
    ap.add_argument('--list', action='store_true', help='list the mutants, test none')
    ap.add_argument('--keep', action='store_true', help='keep the scratch directory')
    ap.add_argument('--sanitizer', choices=('leak', 'address'), default='leak',
                    help='build every mutant with this sanitizer where it works here')
    args = ap.parse_args()

    files = [os.path.relpath(os.path.abspath(f), TOP) for f in args.files]
    entries, errors = read_equivalent(args.equivalent)
    for e in errors:
        print(f'mutate: {e}', file=sys.stderr)
    if errors:
        return 1
    by_key = {}
    for e in entries:
        by_key.setdefault(e.key(), []).append(e)

    mutants = []
    template = shlex.split(make_commands()['compile'])
    for f in files:
        mutants.extend(mutants_of(os.path.join(TOP, f), f, compiled_lines(f, template)))
    counts = {}
    for m in mutants:
        counts[m.key()] = counts.get(m.key(), 0) + 1
    ambiguous = {k for k, n in counts.items() if n > 1}
    for m in mutants:
        for e in by_key.get(m.key(), []):
            if e.matches(m):
                e.used = True
                m.equivalent = True
    stale = [e for e in entries if e.file in files and not e.used]

    if args.list:
        for m in mutants:
            print(f'{m.where()} {m.func} {m.op}{" (equivalent)" if m.equivalent else ""}\n'
                  f'{diff(m)}')
        print(f'{len(mutants)} mutants')
        return 0

    chosen = mutants
    if args.sample is not None:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
        pool = [m for m in mutants if not m.equivalent]
        chosen = random.Random(seed).sample(pool, min(args.sample, len(pool)))
        print(f'mutate: a sample of {len(chosen)} of {len(pool)} mutants, seed {seed} '
              f'(MUTATE_SEED={seed} repeats it)', flush=True)

    started = time.monotonic()
    scratch = tempfile.mkdtemp(prefix='liveness-mutate.')
    runner = Runner(args, scratch)
    try:
        runner.setup()
        base = runner.times
        timeouts = {s: max(args.timeout, 5 * t) for s, t in base.items()}
        print(f'mutate: {len(chosen)} mutants of {" ".join(files)}, {args.jobs} jobs; '
              f'unmutated suites ran in {sum(base.values()):.2f} s'
              f'{", under " + runner.sanitizer + " sanitizer" if runner.sanitizer else ""}', flush=True)
        slots = list(range(args.jobs))
        slot_lock = threading.Lock()
        done = [0]

        def one(m):
            with slot_lock:
                slot = slots.pop()
            try:
                runner.test(m, slot, timeouts)
            finally:
                with slot_lock:
                    slots.append(slot)
                    done[0] += 1
                    n = done[0]
            if m.status == 'survived' and not m.equivalent:
                print(f'SURVIVED {m.where()} ({m.func}) {m.op}\n{diff(m)}', flush=True)
            if n % 100 == 0 or n == len(chosen):
                print(f'mutate: {n}/{len(chosen)} tested, {time.monotonic() - started:.0f} s',
                      flush=True)

        pool = ThreadPoolExecutor(max_workers=args.jobs)
        try:
            list(pool.map(one, chosen))
        finally:
            # On an interrupt, the mutants not started are dropped and the running ones killed.
            runner.stop()
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if args.keep:
            print(f'mutate: scratch kept in {scratch}')
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started

    table, scores = summarize(files, chosen, args.sample is not None)
    survivors = [m for m in chosen if m.status == 'survived' and not m.equivalent]
    killed_eq = [m for m in chosen if m.equivalent and m.status in ('killed', 'timeout')]
    lines = [table, f'time: {elapsed:.0f} s for {len(chosen)} mutants with {args.jobs} jobs '
             f'({elapsed / max(len(chosen), 1):.2f} s each)']
    for e in stale:
        lines.append(f'STALE {args.equivalent}:{e.line}: {e.file} {e.func} {e.op} matches no '
                     'mutant any more: remove it, or update it to the code')
    for m in killed_eq:
        lines.append(f'LISTED BUT KILLED {m.where()} ({m.func}) {m.op}: the list calls it '
                     f'equivalent, yet a test kills it: remove the entry\n{diff(m)}')
    print('\n'.join(lines))

    if args.report:
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, 'w') as f:
            f.write('\n'.join(lines) + '\n\n')
            f.write(f'{len(survivors)} survivors: for each, write the test that kills it, or '
                    f'add the entry (with its reason) to {EQUIVALENT}.\n\n')
            for m in sorted(survivors, key=lambda m: (m.file, m.line, m.col)):
                f.write(f'SURVIVED {m.where()}:{m.col} ({m.func}) {m.op}\n{diff(m)}\n'
                        f'entry:\n{entry_text(m, ambiguous)}\n')
            unset = [m for m in chosen if m.uninit]
            if unset:
                f.write('Killed only when built with unset variables as zeros, not as a '
                        'pattern (each reads a variable it never set):\n')
                for m in unset:
                    f.write(f'{m.where()} ({m.func}) {m.op}\n{diff(m)}\n')
            hung = [m for m in chosen if m.status == 'timeout']
            if hung:
                f.write('Killed by the time limit (hung):\n')
                for m in hung:
                    f.write(f'{m.where()} ({m.func}) {m.op}\n{diff(m)}\n')
            still = [m for m in chosen if m.status == 'stillborn']
            f.write(f'\n{len(still)} stillborn (did not compile):\n')
            for m in still:
                f.write(f'{m.where()} ({m.func}) {m.op}\n{diff(m)}\n')
        print(f'mutate: report in {args.report}')

    if args.sample is not None:
        if survivors:
            print(f'mutate: FAIL: {len(survivors)} sampled mutants survived and are not listed '
                  f'in {EQUIVALENT}', file=sys.stderr)
            return 1
        return 0
    low = [f for f in files if 100 * scores[f] < args.floor]
    if low:
        print(f'mutate: FAIL: under {args.floor:.0f} %: {" ".join(low)}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
