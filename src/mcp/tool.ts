// The shape of one MCP tool: zod schemas (the single source of truth) and a handler.
import type { z } from "zod";
import type { Broker, CallContext } from "../core/broker.ts";

/** The MCP session around one tool call: notifications to the client, and URL elicitation. */
export interface ToolSession {
  /** A log notification (notifications/message), plus a progress notification when the client asked for progress. */
  notify(message: string): Promise<void>;
  /** Asks the client to open a URL (MCP URL-mode elicitation): true when the user accepted; null when the client cannot. */
  elicitUrl: ((url: string, message: string) => Promise<boolean>) | null;
  /** Aborted when the client cancels the call. */
  signal: AbortSignal;
}

/** Everything a tool handler may use. */
export interface ToolContext extends CallContext {
  broker: Broker;
  /** Present when called through an MCP server (absent in direct calls). */
  session?: ToolSession;
}

export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  run(input: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<z.infer<z.ZodObject<O>>>;
}

/** Identity helper that keeps the input and output types tied to their schemas. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(t: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return t;
}
