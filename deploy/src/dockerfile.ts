// A Dockerfile read as text and linted with the rules that matter for our images (no Docker engine runs here).
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

/** Instructions in order (continuation lines joined, comments and blank lines dropped), grouped into stages. */
export function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.slice(0, -1)} ${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`line ${start + 1}: not an instruction: ${line}`);
    instructions.push({ keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start + 1 });
  }
  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: bad FROM`);
      stages.push({ from: m[1] ?? '', name: m[2], instructions: [] });
    } else if (stages.length === 0) preamble.push(ins);
    else stages.at(-1)?.instructions.push(ins);
  }
  return { preamble, stages };
}

const KNOWN = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
]);

/** Problems with the Dockerfile; empty when it keeps every rule. */
export function lintDockerfile(text: string): string[] {
  const problems: string[] = [];
  const { preamble, stages } = parseDockerfile(text);
  const globalArgs = new Map(
    preamble
      .filter((i) => i.keyword === 'ARG')
      .map((i) => {
        const [name, value] = i.args.split('=');
        return [name ?? '', value ?? ''] as const;
      }),
  );
  if (stages.length < 2) problems.push('not a multi-stage build');
  const names = new Set<string>();
  for (const [index, stage] of stages.entries()) {
    const base = stage.from.replace(/^\$\{(\w+)\}$/, (_, arg: string) => globalArgs.get(arg) ?? '');
    if (!base) problems.push(`stage ${index}: FROM ${stage.from} has no default`);
    else if (!names.has(base)) {
      const tag = /:([^@]+)(@sha256:[0-9a-f]{64})?$/.exec(base)?.[1];
      if (!tag || tag === 'latest' || !/\d/.test(tag))
        problems.push(`stage ${index}: base ${base} is not pinned to a version`);
    }
    if (stage.name) names.add(stage.name);
    const declared = new Set(
      stage.instructions
        .filter((i) => i.keyword === 'ARG' || i.keyword === 'ENV')
        .map((i) => i.args.split(/[=\s]/)[0] ?? ''),
    );
    for (const ins of stage.instructions) {
      if (!KNOWN.has(ins.keyword)) problems.push(`line ${ins.line}: unknown instruction ${ins.keyword}`);
      for (const [, used] of ins.args.matchAll(/\$\{?(\w+)\}?/g)) {
        const v = used ?? '';
        // An ARG from before the first FROM is not visible inside a stage unless declared again there (a classic:
        // the build silently gets an empty value). In RUN, other $names are the shell's own variables.
        if (globalArgs.has(v) && !declared.has(v))
          problems.push(`line ${ins.line}: uses \${${v}} without ARG ${v} in this stage`);
        else if (ins.keyword !== 'RUN' && !declared.has(v))
          problems.push(`line ${ins.line}: uses \${${v}}, which is not an ARG or ENV of this stage`);
      }
      if (ins.keyword === 'ADD' && /https?:\/\//.test(ins.args))
        problems.push(`line ${ins.line}: ADD from a URL`);
      if (ins.keyword === 'COPY') {
        const from = /--from=(\S+)/.exec(ins.args)?.[1];
        if (from && !names.has(from))
          problems.push(`line ${ins.line}: COPY --from=${from}, no such earlier stage`);
      }
      if (ins.keyword === 'RUN' && /\bsudo\b|curl[^|]*\|\s*(ba)?sh/.test(ins.args))
        problems.push(`line ${ins.line}: sudo or curl | sh`);
      if (ins.keyword === 'RUN' && /\bnpm (install|i)\b/.test(ins.args))
        problems.push(`line ${ins.line}: npm install instead of npm ci (the lockfile must decide)`);
      if (ins.keyword === 'WORKDIR' && !ins.args.startsWith('/'))
        problems.push(`line ${ins.line}: relative WORKDIR`);
    }
  }
  const final = stages.at(-1);
  if (final) {
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    const user = users.at(-1)?.args ?? 'root';
    if (!/^[1-9]\d*(:[1-9]\d*)?$/.test(user))
      problems.push(`final stage runs as ${user}, not a numeric non-root uid`);
    const cmd = final.instructions.filter((i) => i.keyword === 'CMD').at(-1);
    if (!cmd?.args.startsWith('['))
      problems.push('final stage has no exec-form CMD (signals must reach node)');
    if (
      final.instructions.some(
        (i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && !/--omit=dev/.test(i.args),
      )
    )
      problems.push('final stage installs dev dependencies');
  }
  return problems;
}

/** The exec-form CMD of the final stage. */
export function finalCommand(text: string): string[] {
  const final = parseDockerfile(text).stages.at(-1);
  const cmd = final?.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  return cmd ? (JSON.parse(cmd.args) as string[]) : [];
}
