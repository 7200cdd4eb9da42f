// Every `convlens <command> ... --flag` the README and docs/*.md show names an option that command
// has: commands quoted in shell blocks (continuation lines joined) and in inline code. A flag that
// was renamed or removed leaves a command a reader copies and the CLI refuses; so does a sample
// or model file of the repository that moved.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/interfaces/cli/registry.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The long flags of each command, and of each `diffuse <sub>` by its two words. */
async function flagsByCommand(): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const collect = (command: Command, name: string): void => {
    out.set(name, new Set(['--help', ...command.options.map((o) => o.long).filter((l): l is string => !!l)]));
    for (const sub of command.commands) collect(sub, `${name} ${sub.name()}`);
  };
  for (const entry of COMMANDS) {
    const command = new Command(entry.name);
    (await entry.load()).define(command);
    collect(command, entry.name);
    for (const alias of entry.aliases ?? []) collect(command, alias);
  }
  return out;
}

/** Command lines quoted by a doc: shell code blocks (with `\` continuations) and inline code. */
function quotedCommands(text: string): string[] {
  const lines: string[] = [];
  for (const [, block] of text.matchAll(/```(?:sh|bash|shell|console)?\n([\s\S]*?)```/g)) lines.push(...block!.replace(/\\\n/g, ' ').split('\n'));
  for (const [, code] of text.matchAll(/`([^`\n]*convlens [^`\n]*)`/g)) lines.push(code!);
  return lines.map((l) => l.replace(/\s#\s.*$/, ''));
}

describe('docs: flags of the convlens commands they show', () => {
  it('every --flag after `convlens <command>` is an option of that command', async () => {
    const flags = await flagsByCommand();
    const wrong: string[] = [];
    let checked = 0;
    for (const doc of DOCS) {
      for (const line of quotedCommands(readFileSync(join(ROOT, doc), 'utf8'))) {
        // a pipe, redirection or `;` ends the command
        for (const [, name, rest] of line.matchAll(/\bconvlens ([a-z][a-z-]*)([^|;&<>]*)/g)) {
          const words = rest!.trim().split(/\s+/);
          const key = flags.has(`${name} ${words[0]}`) ? `${name} ${words[0]}` : name!;
          const known = flags.get(key);
          if (!known) {
            wrong.push(`${doc}: unknown command "convlens ${name}" in: ${line.trim()}`);
            continue;
          }
          for (const [flag] of rest!.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) {
            checked++;
            if (!known.has(flag)) wrong.push(`${doc}: convlens ${key} has no ${flag}: ${line.trim()}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  // The tour and the figures' commands "run as written from a fresh clone": the samples, data and
  // models they name are files of the repository (out/ is what earlier commands wrote; anything
  // else is the reader's own file, e.g. resnet50.onnx, photo.jpg).
  it('every samples/, data/, assets/ or scripts/ path a command names is in the repository', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const doc of DOCS) {
      for (const line of quotedCommands(readFileSync(join(ROOT, doc), 'utf8'))) {
        if (!/\b(convlens|tsx) /.test(line)) continue;
        for (const [path] of line.matchAll(/(?<![\w/.-])(?:samples|data|assets|scripts)\/[\w./*-]+/g)) {
          checked++;
          const [dir, pattern] = path.includes('*') ? [path.slice(0, path.lastIndexOf('/')), path.slice(path.lastIndexOf('/') + 1)] : [path, ''];
          const found = pattern ? existsSync(join(ROOT, dir)) && readdirSync(join(ROOT, dir)).some((f) => new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(f)) : existsSync(join(ROOT, dir));
          if (!found) missing.push(`${doc}: ${path} in: ${line.trim()}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });

  // a checkout has no convlens on PATH (npm puts it in node_modules/.bin): the docs run it as npx does
  it('shell blocks run convlens through npx, as a fresh checkout can', () => {
    const bare = DOCS.flatMap((doc) =>
      [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/```(?:sh|bash|shell|console)?\n([\s\S]*?)```/g)]
        .flatMap(([, block]) => block!.split('\n'))
        .filter((line) => /^\s*convlens /.test(line))
        .map((line) => `${doc}: ${line.trim()}`),
    );
    expect(bare).toEqual([]);
  });
});
