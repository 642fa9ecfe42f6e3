import { Argument, type Command, type Help } from 'commander';
import { RivetError } from '../../shared/errors/rivet-error.js';

/**
 * `rivet completions <shell>`: a completion script built by walking the commander program,
 * so a new command or flag is completed without touching this file. Every shell gets the
 * same model: the command path typed so far (`rivet state show`), and for each path its
 * subcommands, its flags (and which of them take a value, with their choices if any) and
 * the choices of its positional argument.
 */
export const SHELLS = ['bash', 'elvish', 'fish', 'powershell', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

interface FlagSpec {
  short?: string;
  long?: string;
  takesValue: boolean;
  choices: string[];
  description: string;
}

interface PathSpec {
  /** `rivet`, `rivet state`, `rivet state show`. */
  path: string;
  description: string;
  subcommands: { name: string; description: string }[];
  flags: FlagSpec[];
  /** Choices of the positional arguments (e.g. the shells of `completions`). */
  argChoices: string[];
}

/** Every command path of the program, depth first, the root first. */
export function commandPaths(program: Command): PathSpec[] {
  const help = program.createHelp();
  const out: PathSpec[] = [];
  const walk = (cmd: Command, path: string) => {
    const subs = help.visibleCommands(cmd);
    out.push({
      path,
      description: firstLine(cmd.description()),
      subcommands: subs.flatMap((s) => [s.name(), ...s.aliases()].map((name) => ({ name, description: firstLine(s.description()) }))),
      flags: flagsOf(help, cmd),
      argChoices: help.visibleArguments(cmd).flatMap((a) => a.argChoices ?? []),
    });
    for (const sub of subs) {
      // The implicit `help [command]` takes the sibling command names.
      if (sub.name() === 'help' && !cmd.commands.includes(sub)) {
        out.push({ path: `${path} help`, description: firstLine(sub.description()), subcommands: [], flags: [], argChoices: subs.map((s) => s.name()).filter((n) => n !== 'help') });
        continue;
      }
      walk(sub, `${path} ${sub.name()}`);
    }
  };
  walk(program, program.name());
  return out;
}

function flagsOf(help: Help, cmd: Command): FlagSpec[] {
  return help.visibleOptions(cmd).map((o) => ({
    short: o.short,
    long: o.long,
    takesValue: o.required || o.optional,
    choices: o.argChoices ?? [],
    description: firstLine(o.description),
  }));
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0].trim();
}

const names = (f: FlagSpec): string[] => [f.short, f.long].filter((n): n is string => !!n);

/** The completion script of `program` for `shell`. */
export function completionScript(program: Command, shell: Shell): string {
  const paths = commandPaths(program);
  switch (shell) {
    case 'bash':
      return bashScript(program.name(), paths);
    case 'zsh':
      return zshScript(program.name(), paths);
    case 'fish':
      return fishScript(program.name(), paths);
    case 'powershell':
      return powershellScript(program.name(), paths);
    case 'elvish':
      return elvishScript(program.name(), paths);
  }
}

export function registerCompletions(program: Command): void {
  program
    .command('completions')
    .description('print a shell completion script for rivet (bash, elvish, fish, powershell, zsh)')
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(SHELLS))
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new RivetError('USAGE', `unknown shell '${shell}'`, { hint: `one of: ${SHELLS.join(', ')}` });
      }
      process.stdout.write(completionScript(program, shell as Shell));
    });
}

// ---------------------------------------------------------------- quoting

/** POSIX single quotes (bash, zsh). */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** PowerShell and elvish single quotes: a quote is doubled. */
const sq2 = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** fish single quotes: backslash and quote are escaped. */
const fq = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Case arms of the path walk shared by bash and zsh: descend into a subcommand, skip a flag's value. */
function posixWalkArms(paths: PathSpec[], indent: string, skip: string): string[] {
  const arms: string[] = [];
  for (const p of paths) {
    for (const s of p.subcommands) arms.push(`${indent}${sq(`${p.path}:${s.name}`)}) cmdpath=${sq(`${p.path} ${s.name}`)} ;;`);
    const valued = p.flags.filter((f) => f.takesValue).flatMap(names);
    if (valued.length > 0) arms.push(`${indent}${valued.map((n) => sq(`${p.path}:${n}`)).join('|')}) ${skip} ;;`);
  }
  return arms;
}

// ---------------------------------------------------------------- bash

function bashScript(bin: string, paths: PathSpec[]): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const valueArms: string[] = [];
  const wordArms: string[] = [];
  for (const p of paths) {
    for (const f of p.flags.filter((x) => x.takesValue)) {
      const pats = names(f).map((n) => sq(`${p.path}:${n}`)).join('|');
      const reply = f.choices.length > 0 ? `COMPREPLY=($(compgen -W ${sq(f.choices.join(' '))} -- "$cur"))` : 'COMPREPLY=($(compgen -f -- "$cur"))';
      valueArms.push(`    ${pats}) ${reply}; return 0 ;;`);
    }
    const flags = p.flags.flatMap(names);
    const words = [...p.subcommands.map((s) => s.name), ...p.argChoices];
    wordArms.push(`    ${sq(p.path)}) flags=${sq(flags.join(' '))}; words=${sq(words.join(' '))} ;;`);
  }
  return [
    `# bash completion for ${bin}: generated by \`${bin} completions bash\``,
    `${fn}() {`,
    '  local cur prev cmdpath flags words i',
    '  COMPREPLY=()',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    `  cmdpath=${sq(bin)}`,
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "$cmdpath:${COMP_WORDS[i]}" in',
    ...posixWalkArms(paths, '      ', '((i++))'),
    '    esac',
    '  done',
    '  case "$cmdpath:$prev" in',
    ...valueArms,
    '  esac',
    '  flags=""; words=""',
    '  case "$cmdpath" in',
    ...wordArms,
    '  esac',
    '  if [[ "$cur" == -* ]]; then',
    '    COMPREPLY=($(compgen -W "$flags" -- "$cur"))',
    '  elif [[ -n "$words" ]]; then',
    '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '  else',
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    '  fi',
    '  return 0',
    '}',
    `complete -o default -F ${fn} ${bin}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- zsh

function zshScript(bin: string, paths: PathSpec[]): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  const valueArms: string[] = [];
  const candArms: string[] = [];
  for (const p of paths) {
    for (const f of p.flags.filter((x) => x.takesValue)) {
      const pats = names(f).map((n) => sq(`${p.path}:${n}`)).join('|');
      const action = f.choices.length > 0 ? `compadd -- ${f.choices.map(sq).join(' ')}` : '_files';
      valueArms.push(`    ${pats}) ${action}; return ;;`);
    }
    const cmds = [...p.subcommands.map((s) => `${esc(s.name)}:${s.description}`), ...p.argChoices.map((c) => esc(c))];
    const flags = p.flags.flatMap((f) => names(f).map((n) => `${esc(n)}:${f.description}`));
    candArms.push(`    ${sq(p.path)}) cmds=(${cmds.map(sq).join(' ')}); flags=(${flags.map(sq).join(' ')}) ;;`);
  }
  return [
    `#compdef ${bin}`,
    `# zsh completion for ${bin}: generated by \`${bin} completions zsh\``,
    `${fn}() {`,
    '  local cmdpath i',
    '  local -a cmds flags',
    `  cmdpath=${sq(bin)}`,
    '  for ((i = 2; i < CURRENT; i++)); do',
    '    case "$cmdpath:${words[i]}" in',
    ...posixWalkArms(paths, '      ', '((i++))'),
    '    esac',
    '  done',
    '  case "$cmdpath:${words[CURRENT-1]}" in',
    ...valueArms,
    '  esac',
    '  case "$cmdpath" in',
    ...candArms,
    '  esac',
    '  if [[ "$PREFIX" == -* ]]; then',
    "    _describe -t options 'option' flags",
    '  elif (( ${#cmds} > 0 )); then',
    "    _describe -t commands 'command' cmds",
    '  else',
    '    _files',
    '  fi',
    '}',
    `if [[ "\${funcstack[1]}" == "${fn}" ]]; then`,
    `  ${fn} "$@"`,
    'else',
    `  compdef ${fn} ${bin}`,
    'fi',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- fish

function fishScript(bin: string, paths: PathSpec[]): string {
  const fn = `__${bin.replace(/[^A-Za-z0-9_]/g, '_')}_cmdpath`;
  const at = `__${bin.replace(/[^A-Za-z0-9_]/g, '_')}_at`;
  const arms: string[] = [];
  const lines: string[] = [];
  for (const p of paths) {
    for (const s of p.subcommands) arms.push(`            case ${fq(`${p.path}:${s.name}`)}`, `                set p ${fq(`${p.path} ${s.name}`)}`);
    const valued = p.flags.filter((f) => f.takesValue).flatMap(names);
    if (valued.length > 0) arms.push(`            case ${valued.map((n) => fq(`${p.path}:${n}`)).join(' ')}`, '                set skip 1');
    // fish does not expand `(…)` inside double quotes, so the comparison lives in a function.
    const cond = `-n ${fq(`${at} ${fq(p.path)}`)}`;
    for (const s of p.subcommands) lines.push(`complete -c ${bin} ${cond} -a ${fq(s.name)} -d ${fq(s.description)}`);
    if (p.argChoices.length > 0) lines.push(`complete -c ${bin} ${cond} -a ${fq(p.argChoices.join(' '))}`);
    for (const f of p.flags) {
      const parts = [`complete -c ${bin}`, cond];
      if (f.short) parts.push(`-s ${f.short.replace(/^-/, '')}`);
      if (f.long) parts.push(`-l ${f.long.replace(/^--/, '')}`);
      if (f.takesValue) parts.push(f.choices.length > 0 ? `-x -a ${fq(f.choices.join(' '))}` : '-r -F');
      parts.push(`-d ${fq(f.description)}`);
      lines.push(parts.join(' '));
    }
  }
  return [
    `# fish completion for ${bin}: generated by \`${bin} completions fish\``,
    `function ${fn}`,
    '    set -l tokens (commandline -opc)',
    `    set -l p ${fq(bin)}`,
    '    set -l skip 0',
    '    for w in $tokens[2..-1]',
    '        if test $skip -eq 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch "$p:$w"',
    ...arms,
    '        end',
    '    end',
    '    echo $p',
    'end',
    `function ${at}`,
    `    test (${fn}) = $argv[1]`,
    'end',
    `complete -c ${bin} -f`,
    ...lines,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- powershell and elvish: data tables and a generic walk

function powershellScript(bin: string, paths: PathSpec[]): string {
  const subs = paths.map((p) => `        ${sq2(p.path)} = @(${p.subcommands.map((s) => sq2(s.name)).join(', ')})`);
  const valued = paths.map((p) => `        ${sq2(p.path)} = @(${p.flags.filter((f) => f.takesValue).flatMap(names).map(sq2).join(', ')})`);
  // Flat string arrays only: PowerShell unrolls a one-element array of arrays, so names and
  // descriptions are kept apart (descriptions keyed by `path|name`).
  const items = (p: PathSpec) => {
    const seen = new Map<string, string>();
    for (const [n, d] of [
      ...p.subcommands.map((s) => [s.name, s.description]),
      ...p.argChoices.map((c) => [c, c]),
      ...p.flags.flatMap((f) => names(f).map((n) => [n, f.description])),
    ]) {
      if (!seen.has(n)) seen.set(n, d || n);
    }
    return [...seen];
  };
  const cands = paths.map((p) => `        ${sq2(p.path)} = @(${items(p).map(([n]) => sq2(n)).join(', ')})`);
  const descs = paths.flatMap((p) => items(p).map(([n, d]) => `        ${sq2(`${p.path}|${n}`)} = ${sq2(d)}`));
  return [
    `# PowerShell completion for ${bin}: generated by \`${bin} completions powershell\``,
    `Register-ArgumentCompleter -Native -CommandName ${sq2(bin)} -ScriptBlock {`,
    '    param($wordToComplete, $commandAst, $cursorPosition)',
    '    $subcommands = @{',
    ...subs,
    '    }',
    '    $valueOptions = @{',
    ...valued,
    '    }',
    '    $candidates = @{',
    ...cands,
    '    }',
    '    $descriptions = @{',
    ...descs,
    '    }',
    `    $path = ${sq2(bin)}`,
    '    $skip = $false',
    '    $typed = @($commandAst.CommandElements | Select-Object -Skip 1 | Where-Object { $_.Extent.EndOffset -lt $cursorPosition } | ForEach-Object { $_.ToString() })',
    '    foreach ($w in $typed) {',
    '        if ($skip) { $skip = $false; continue }',
    "        if ($w.StartsWith('-')) { if ($valueOptions[$path] -contains $w) { $skip = $true }; continue }",
    '        if ($subcommands[$path] -contains $w) { $path = "$path $w" }',
    '    }',
    '    foreach ($c in $candidates[$path]) {',
    '        if ($c -like "$wordToComplete*") {',
    '            [System.Management.Automation.CompletionResult]::new($c, $c, \'ParameterValue\', $descriptions["$path|$c"])',
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}

function elvishScript(bin: string, paths: PathSpec[]): string {
  const list = (xs: string[]) => `[${xs.map(sq2).join(' ')}]`;
  const subs = paths.map((p) => `    &${sq2(p.path)}=${list(p.subcommands.map((s) => s.name))}`);
  const valued = paths.map((p) => `    &${sq2(p.path)}=${list(p.flags.filter((f) => f.takesValue).flatMap(names))}`);
  const cands = paths.map((p) => `    &${sq2(p.path)}=${list([...p.subcommands.map((s) => s.name), ...p.argChoices, ...p.flags.flatMap(names)])}`);
  return [
    `# elvish completion for ${bin}: generated by \`${bin} completions elvish\``,
    'use str',
    `set edit:completion:arg-completer[${bin}] = {|@words|`,
    '  var subcommands = [',
    ...subs,
    '  ]',
    '  var value-options = [',
    ...valued,
    '  ]',
    '  var candidates = [',
    ...cands,
    '  ]',
    `  var path = ${sq2(bin)}`,
    '  var skip = $false',
    '  for w $words[1..-1] {',
    '    if $skip {',
    '      set skip = $false',
    '      continue',
    '    }',
    '    if (str:has-prefix $w -) {',
    '      if (has-value $value-options[$path] $w) {',
    '        set skip = $true',
    '      }',
    '      continue',
    '    }',
    '    if (has-value $subcommands[$path] $w) {',
    "      set path = $path' '$w",
    '    }',
    '  }',
    '  all $candidates[$path]',
    '}',
    '',
  ].join('\n');
}
