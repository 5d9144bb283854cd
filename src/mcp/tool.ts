// The shape of one MCP tool: zod schemas (the single source of truth) and a handler.
import type { z } from "zod";
import type { Broker, CallContext } from "../core/broker.ts";

/** Everything a tool handler may use. */
export interface ToolContext extends CallContext {
  broker: Broker;
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
