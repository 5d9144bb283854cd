// MemoryStore: the Store contract, plus what only the in-process backend promises.
import { describe, expect, it } from "bun:test";
import { MemoryStore } from "../../src/store/memory.ts";
import { describeStoreContract, record } from "../fixtures/store-contract.ts";

describeStoreContract("memory", () => ({ store: new MemoryStore(), cleanup: () => {} }));

describe("MemoryStore", () => {
  it("keeps nothing between instances", async () => {
    const a = new MemoryStore();
    await a.set("gh", record("v"));
    expect(await new MemoryStore().get("gh")).toBeNull();
  });

  it("says in its description that secrets are lost on exit", () => {
    const s = new MemoryStore();
    expect(s.backend).toBe("memory");
    expect(s.description).toMatch(/lost/);
  });
});
