import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The top-level commands `rivet --help` lists: a completion script must offer every one. */
let commands: string[] = [];
let dir: string;
beforeAll(async () => {
  const help = await runCli(['--help']);
  const section = help.stdout.split(/^Commands:$/m)[1] ?? '';
  commands = [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  expect(commands).toEqual(expect.arrayContaining(['run', 'state', 'schema', 'completions']));
  dir = await mkdtemp(join(tmpdir(), 'rivet-compl-'));
});

async function script(shell: string): Promise<string> {
  const r = await runCli(['completions', shell]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('rivet completions bash', () => {
  it('registers a completion function for rivet when sourced', () => {
    const out = execFileSync('bash', ['-c', `source <(${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} completions bash); complete -p rivet`], { encoding: 'utf8' });
    expect(out.trim()).toBe('complete -o default -F _rivet rivet');
  });

  it('completes commands, subcommands, flags, choices and file values like bash would ask it to', async () => {
    const file = join(dir, 'rivet.bash');
    await writeFile(file, await script('bash'));
    /** Runs the completion function the way bash does on <TAB>: COMP_WORDS, COMP_CWORD, then COMPREPLY. */
    const complete = (...words: string[]) =>
      execFileSync('bash', ['-c', `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _rivet; printf '%s\\n' "\${COMPREPLY[@]}"`, file, 'rivet', ...words], { encoding: 'utf8', cwd: dir })
        .split('\n')
        .filter(Boolean);
    expect(complete('')).toEqual(expect.arrayContaining([...commands, 'help']));
    expect(complete('sta')).toEqual(['state']);
    expect(complete('state', '')).toEqual(expect.arrayContaining(['show', 'files', 'chunks', 'reset-chunks']));
    expect(complete('run', '--par').sort()).toEqual(['--parallel-export-processes', '--parallel-exports', '--param']);
    expect(complete('completions', '')).toEqual(['bash', 'elvish', 'fish', 'powershell', 'zsh']);
    expect(complete('completions', 'p')).toEqual(['powershell']);
    // A value flag's value is a file name here (the config path) ...
    expect(complete('run', '-c', 'rivet.b')).toEqual(['rivet.bash']);
    // ... and the word after it is not mistaken for a subcommand: `state` is the -e value, flags of `run` follow.
    expect(complete('run', '-e', 'state', '--val')).toEqual(['--validate']);
    // Root flags before the command are skipped over.
    expect(complete('--json-errors', 'schema', '')).toEqual(expect.arrayContaining(['config']));
  });
});

describe('rivet completions zsh | fish | powershell | elvish', () => {
  it('zsh: a #compdef function with every command (syntax-checked by zsh -n when zsh is installed)', async () => {
    const s = await script('zsh');
    expect(s.startsWith('#compdef rivet\n')).toBe(true);
    expect(s).toMatch(/^ {4}compdef _rivet rivet$|^ {2}compdef _rivet rivet$/m);
    for (const c of commands) expect(s).toContain(`'${c}:`);
    expect(s.match(/\bcase\b/g)?.length).toBe(s.match(/\besac\b/g)?.length);
    if (has('zsh')) {
      const file = join(dir, '_rivet');
      await writeFile(file, s);
      expect(spawnSync('zsh', ['-n', file]).status).toBe(0);
    }
  });

  it('fish: complete lines conditioned on the command path (fish -n when fish is installed)', async () => {
    const s = await script('fish');
    for (const c of commands) expect(s).toContain(`complete -c rivet -n '__rivet_at \\'rivet\\'' -a '${c}'`);
    expect(s).toContain(`complete -c rivet -n '__rivet_at \\'rivet run\\'' -l parallel-export-processes`);
    expect(s).toContain(`complete -c rivet -n '__rivet_at \\'rivet completions\\'' -a 'bash elvish fish powershell zsh'`);
    expect(s.match(/^function /gm)?.length).toBe(2);
    expect(s.match(/^end$/gm)?.length).toBe(2);
    if (has('fish')) {
      const file = join(dir, 'rivet.fish');
      await writeFile(file, s);
      expect(spawnSync('fish', ['-n', file]).status).toBe(0);
    }
  });

  it('powershell: a native argument completer with a table per command path', async () => {
    const s = await script('powershell');
    expect(s).toContain("Register-ArgumentCompleter -Native -CommandName 'rivet' -ScriptBlock {");
    for (const c of commands) expect(s).toContain(`'rivet ${c}' = @(`);
    expect(s).toContain("'rivet completions' = @('bash', 'elvish', 'fish', 'powershell', 'zsh'");
    expect(s.split('{').length).toBe(s.split('}').length);
    expect(s.split('(').length).toBe(s.split(')').length);
  });

  it('elvish: an arg-completer for rivet', async () => {
    const s = await script('elvish');
    expect(s).toContain('set edit:completion:arg-completer[rivet] = {|@words|');
    for (const c of commands) expect(s).toContain(`&'rivet ${c}'=`);
  });

  it('an unknown shell exits 2 and lists the shells', async () => {
    const r = await runCli(['completions', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'tcsh'.*bash, elvish, fish, powershell, zsh/);
    expect(r.stdout).toBe('');
  });
});
