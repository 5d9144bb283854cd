// Minimal text edits of an MCP client's JSON / JSONC config: add, replace or remove one
// server entry and leave every other byte of the file as it was (README.md §Add it to your MCP client).
import { findNodeAtLocation, getNodeValue, type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { BrokerError } from "../errors.ts";

export interface ConfigSyntax {
  /** VS Code's mcp.json is JSONC: comments and trailing commas allowed. Everything else is strict JSON. */
  jsonc: boolean;
}

export interface ParsedConfig {
  text: string;
  /** The root object's tree; undefined for an empty (or whitespace-only) file. */
  root: Node | undefined;
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/**
 * Parses strictly (JSON, or JSONC when `syntax.jsonc`) and refuses anything else with the
 * file's path and the error's position: a user's file is never "fixed".
 */
export function parseConfig(text: string, syntax: ConfigSyntax, path: string): ParsedConfig {
  if (text.trim() === "") return { text, root: undefined };
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: !syntax.jsonc, allowTrailingComma: syntax.jsonc, allowEmptyContent: false });
  const first = errors[0];
  if (first) {
    throw new BrokerError("CONFIG_INVALID", `${path} is not valid ${syntax.jsonc ? "JSONC" : "JSON"} (${printParseErrorCode(first.error)} at ${lineCol(text, first.offset)}). Nothing was changed: fix the file, then run the command again.`);
  }
  if (!root || root.type !== "object") throw new BrokerError("CONFIG_INVALID", `${path} does not hold a JSON object at the top. Nothing was changed: fix the file, then run the command again.`);
  return { text, root };
}

function serversNode(cfg: ParsedConfig, key: string, path: string): Node | undefined {
  if (!cfg.root) return undefined;
  const node = findNodeAtLocation(cfg.root, [key]);
  if (node && node.type !== "object") throw new BrokerError("CONFIG_INVALID", `"${key}" in ${path} is not an object. Nothing was changed: fix the file, then run the command again.`);
  return node;
}

/** The server entry `servers[name]` as a value, or undefined. */
export function readEntry(cfg: ParsedConfig, key: string, name: string, path: string): unknown {
  const servers = serversNode(cfg, key, path);
  const node = servers && findNodeAtLocation(servers, [name]);
  return node ? getNodeValue(node) : undefined;
}

/** All server names under `key`. */
export function entryNames(cfg: ParsedConfig, key: string, path: string): string[] {
  const servers = serversNode(cfg, key, path);
  return (servers?.children ?? []).map((p) => String(p.children![0]!.value));
}

/** The file's indentation unit: the first indented line's leading whitespace, else two spaces. */
function indentUnit(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  return m ? (m[1]!.startsWith("\t") ? "\t" : m[1]!) : "  ";
}

function eolOf(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}

/** Whitespace from the start of `offset`'s line, when only whitespace precedes it there. */
function lineIndent(text: string, offset: number): string | undefined {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  const prefix = text.slice(start, offset);
  return /^[ \t]*$/.test(prefix) ? prefix : undefined;
}

/** `value` as JSON laid out like the file: multi-line at `indent` with `unit` steps, or compact. */
function layout(value: unknown, indent: string | undefined, unit: string, eol: string): string {
  if (indent === undefined) return JSON.stringify(value);
  return JSON.stringify(value, null, unit).split("\n").join(`${eol}${indent}`);
}

/** Leading whitespace of the line that holds `offset`. */
function lineLead(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/** Inserts member `"name": value` as the last member of `obj`, in the file's own style. */
function insertMember(text: string, obj: Node, name: string, value: unknown): string {
  const unit = indentUnit(text);
  const eol = eolOf(text);
  const last = obj.children?.at(-1);
  if (last) {
    // Multi-line when the last member starts its own line, else inline like its neighbours.
    const indent = lineIndent(text, last.offset);
    const at = last.offset + last.length;
    const sep = indent === undefined ? ", " : `,${eol}${indent}`;
    return `${text.slice(0, at)}${sep}${JSON.stringify(name)}: ${layout(value, indent, unit, eol)}${text.slice(at)}`;
  }
  // An empty object: compact in a one-line file, else opened one level below its line.
  const open = obj.offset + 1;
  const close = obj.offset + obj.length - 1;
  if (!text.trim().includes("\n")) return `${text.slice(0, open)}${JSON.stringify(name)}: ${JSON.stringify(value)}${text.slice(close)}`;
  const outer = lineLead(text, obj.offset);
  const indent = outer + unit;
  return `${text.slice(0, open)}${eol}${indent}${JSON.stringify(name)}: ${layout(value, indent, unit, eol)}${eol}${outer}${text.slice(close)}`;
}

/**
 * Returns the text with `servers[name] = entry`: only the entry's bytes (and a separating comma)
 * change; an existing entry's value is replaced in place; a missing `key` object is added.
 */
export function setEntry(cfg: ParsedConfig, key: string, name: string, entry: unknown, path: string): string {
  const { text, root } = cfg;
  const fresh = JSON.stringify({ [key]: { [name]: entry } }, null, 2);
  if (!root) return `${fresh}\n`;
  // A bare `{}` (what some clients create) gets the same layout as a new file.
  if (!root.children?.length && text.slice(root.offset + 1, root.offset + root.length - 1).trim() === "") return text.slice(0, root.offset) + fresh + text.slice(root.offset + root.length);
  const servers = serversNode(cfg, key, path);
  if (!servers) return insertMember(text, root, key, { [name]: entry });
  const existing = findNodeAtLocation(servers, [name]);
  if (!existing) return insertMember(text, servers, name, entry);
  const prop = existing.parent!;
  const indent = lineIndent(text, prop.offset);
  return text.slice(0, existing.offset) + layout(entry, indent, indentUnit(text), eolOf(text)) + text.slice(existing.offset + existing.length);
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";

/** Returns the text without `servers[name]`, or undefined when there is no such entry. */
export function removeEntry(cfg: ParsedConfig, key: string, name: string, path: string): string | undefined {
  const { text } = cfg;
  const servers = serversNode(cfg, key, path);
  const members = servers?.children ?? [];
  const i = members.findIndex((p) => p.children![0]!.value === name);
  if (i < 0) return undefined;
  const prop = members[i]!;
  let start = prop.offset;
  let end = prop.offset + prop.length;
  if (i + 1 < members.length) {
    // Not the last: take its comma and the whitespace up to the next member (or comment).
    while (isSpace(text[end])) end++;
    if (text[end] === ",") end++;
    while (isSpace(text[end])) end++;
  } else if (i > 0) {
    // The last of several: take the comma that ends the previous member, and what follows it.
    start = text.indexOf(",", members[i - 1]!.offset + members[i - 1]!.length);
  } else {
    // The only member: `{}` when nothing else (a comment) is inside, else just the member.
    const open = servers!.offset + 1;
    const close = servers!.offset + servers!.length - 1;
    let j = end;
    while (isSpace(text[j])) j++;
    if (text[j] === ",") end = j + 1;
    if ((text.slice(open, start) + text.slice(end, close)).trim() === "") return text.slice(0, open) + text.slice(close);
  }
  return text.slice(0, start) + text.slice(end);
}
