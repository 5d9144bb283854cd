// The agent rules stay true to the server: every tool is named, every backticked identifier is a
// real tool, field or policy, every command shown exists, and `run` comes before get/resolve.
import { describe, expect, it } from "bun:test";
import type { CommandDef } from "citty";
import { z } from "zod";
import { AGENT_RULES } from "../../src/cli/rules.ts";
import { rootCommand } from "../../src/cli/root.ts";
import { tools } from "../../src/mcp/tools/index.ts";
import { secretEntry } from "../../src/mcp/schemas.ts";
import { POLICIES } from "../../src/core/store.ts";

/** Every field name reachable in a zod schema (objects, arrays, optionals, defaults). */
function fieldNames(schema: unknown, into = new Set<string>()): Set<string> {
  if (schema instanceof z.ZodObject) {
    for (const [k, v] of Object.entries(schema.shape)) {
      into.add(k);
      fieldNames(v, into);
    }
  } else if (schema instanceof z.ZodArray) fieldNames(schema.element, into);
  else if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) fieldNames(schema.unwrap(), into);
  return into;
}

const backticked = [...AGENT_RULES.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe("agent rules", () => {
  it("name every registered tool", () => {
    for (const t of tools) expect(AGENT_RULES).toContain(`\`${t.name}\``);
  });

  it("use only real tool names, input/output fields and policies as identifiers", () => {
    const known = new Set<string>([...tools.map((t) => t.name), ...POLICIES, "run"]);
    for (const t of tools) for (const s of [z.object(t.input), z.object(t.output)]) fieldNames(s, known);
    fieldNames(secretEntry, known);
    const identifiers = backticked.filter((b) => /^[A-Za-z_]+$/.test(b));
    expect(identifiers.length).toBeGreaterThan(15);
    for (const id of identifiers) expect({ id, known: known.has(id) }).toEqual({ id, known: true });
  });

  it("show only commands that exist", async () => {
    const root = rootCommand("0.0.0") as CommandDef;
    const commands = backticked.filter((b) => b.startsWith("mcp-credentials-broker ")).map((b) => b.split(" ").slice(1));
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const words of commands) {
      let cmd: CommandDef = root;
      for (const w of words) {
        if (w.startsWith("-") || w.startsWith("<")) break;
        const subs = (await (typeof cmd.subCommands === "function" ? cmd.subCommands() : cmd.subCommands)) as Record<string, () => Promise<CommandDef>> | undefined;
        if (!subs) break;
        expect({ command: words.join(" "), word: w, exists: w in subs }).toEqual({ command: words.join(" "), word: w, exists: true });
        cmd = await subs[w]!();
      }
    }
  });

  it("recommend run-wrapped servers before the get_secret / resolve_secret flow", () => {
    const run = AGENT_RULES.indexOf("mcp-credentials-broker run --env");
    expect(run).toBeGreaterThan(0);
    expect(run).toBeLessThan(AGENT_RULES.indexOf("`get_secret`"));
    expect(run).toBeLessThan(AGENT_RULES.indexOf("`resolve_secret`"));
  });
});
