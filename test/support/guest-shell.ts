/**
 * Runs shell commands in a tiny guest over its serial console and reads what each printed:
 * `echo TAG=$(command) TAG-END`, matched in the console text `out` collects. Each call gets a
 * tag of its own (`key` and a counter), so answers never mix.
 */
export function guestShell(out: { readonly text: string }) {
  let marks = 0;
  return async (stream: { write(data: Buffer): Promise<unknown> }, command: string, key = 'G'): Promise<string> => {
    marks += 1;
    const tag = `${key}${marks}`;
    await stream.write(Buffer.from(`echo ${tag}=$(${command}) ${tag}-END\n`));
    const re = new RegExp(`${tag}=([^\\r\\n]*?) ${tag}-END`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      // The echo of the typed line holds "$(": only the output matches the pattern.
      const found = re.exec(out.text.replaceAll(`${tag}=$(`, ''));
      if (found?.[1] !== undefined) return found[1].trim();
      if (Date.now() > deadline) throw new Error(`no ${tag} from the guest: ${out.text.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
}
