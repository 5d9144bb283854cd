// The fetch every discovery, registration and token request for a remote server goes
// through: the address policy decides each URL before a connection is opened, and
// redirects are never followed (oauth4webapi treats a 3xx as an error), so no hop escapes.
import { BrokerError } from "../errors.ts";
import { fetchFailureMessage } from "../net-errors.ts";
import type { FetchLike } from "../oauth/http.ts";
import { checkDiscoveryTarget, type Resolver } from "./address-policy.ts";

/** Wraps `base` so that every request URL is checked against the policy for `server`. */
export function guardFetch(base: FetchLike, server: URL, resolve: Resolver): FetchLike {
  return async (input, init) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    await checkDiscoveryTarget(url, server, resolve, "OAuth request");
    try {
      return await base(input, { ...init, redirect: "manual" });
    } catch (e) {
      const message = fetchFailureMessage(e, url.origin);
      if (message === null) throw e;
      throw new BrokerError("REMOTE_UNREACHABLE", message, { cause: e });
    }
  };
}

/** node:dns `lookup` with every address, loaded on first use. */
export const systemResolver: Resolver = async (name) => {
  const { lookup } = await import("node:dns/promises");
  return (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
};
