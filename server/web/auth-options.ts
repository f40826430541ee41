// next-auth (credentials) configured from the services: the secret comes from the home folder, and the user is
// checked against console.sqlite with the login throttle. Sessions are JWTs carrying the user id and the user's
// session version at sign-in; the role is read from the current record on every request, and a session whose
// version is no longer the user's is refused (see current-user.ts). Signing out bumps the version, so a copy of
// the cookie is worthless afterwards.
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { isDomainError } from "../errors";
import { getServices } from "../services";
import { clientAddress } from "./client-address";
import { safeRedirect } from "./safe-redirect";

let cached: Promise<NextAuthOptions> | null = null;

/** What the session JWT holds besides next-auth's own claims (`sub` is the user id). */
export interface SessionClaims { id?: string; name?: string | null; sv?: number }

export function getAuthOptions(): Promise<NextAuthOptions> {
  cached ??= (async () => {
    const { users, authSecret } = await getServices();
    return {
      secret: authSecret,
      session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
      pages: { signIn: "/login" },
      callbacks: {
        jwt({ token, user }) {
          // At sign-in only (`user` is what authorize returned): the version the session is valid for.
          if (user) token.sv = (user as { sessionVersion?: number }).sessionVersion;
          return token;
        },
        session({ session, token }) {
          const claims: SessionClaims = { ...session.user, id: token.sub, sv: typeof token.sv === "number" ? token.sv : undefined };
          return { ...session, user: claims };
        },
        redirect: safeRedirect,
      },
      events: {
        // Ends every session of the user, this one included: the cookie, if kept somewhere, is refused from now on.
        signOut({ token }) {
          const id = Number(token?.sub);
          if (Number.isInteger(id)) users.endSessions(id);
        },
      },
      providers: [
        CredentialsProvider({
          name: "Strongbox",
          credentials: { username: { label: "User name", type: "text" }, password: { label: "Password", type: "password" } },
          async authorize(credentials, req) {
            const username = credentials?.username ?? "";
            const password = credentials?.password ?? "";
            if (!username || !password) throw new Error("Enter your user name and password.");
            if (username.length > 200 || password.length > 200) throw new Error("Wrong user name or password.");
            try {
              const user = await users.authenticate(username, password, clientAddress(req?.headers ?? {}));
              return { id: String(user.id), name: user.username, sessionVersion: user.sessionVersion };
            } catch (err) {
              if (isDomainError(err)) throw new Error(err.message);
              throw err;
            }
          },
        }),
      ],
    } satisfies NextAuthOptions;
  })();
  return cached;
}
