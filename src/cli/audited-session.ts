// A remote MCP server's session (connect, proxy) whose sign-in and sign-out are audited: the
// session stores and deletes its token itself, around the broker, so each goes through
// Broker.auditChange (remote-login, remote-logout: an intent line before, the outcome after;
// the target is the server's origin, never a token).
import type { Broker } from "../core/broker.ts";
import type { RemoteSession } from "../remote/session.ts";

export function auditedSession(session: RemoteSession, broker: Broker): RemoteSession {
  const target = session.cfg.server.origin;
  const ctx = { client: "cli", user: true };
  const login: RemoteSession["login"] = (ui, opts) => broker.auditChange({ event: "remote-login", target }, ctx, () => session.login(ui, opts));
  const logout: RemoteSession["logout"] = () => broker.auditChange({ event: "remote-logout", target }, ctx, () => session.logout());
  // Everything else is the session's own, bound to it (its private fields stay reachable).
  return new Proxy(session, {
    get(t, key) {
      if (key === "login") return login;
      if (key === "logout") return logout;
      const v = Reflect.get(t, key, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}
