// next-auth (credentials) configured from the services: the secret comes from the home folder, and the user is
// checked against console.sqlite with the login throttle. Sessions are JWTs carrying only the user id; the role
// is read from the current record on every request (see current-user.ts).
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { isUserError } from "../auth/users";
import { getServices } from "../services";

let cached: Promise<NextAuthOptions> | null = null;

export function getAuthOptions(): Promise<NextAuthOptions> {
  cached ??= (async () => {
    const { users, authSecret } = await getServices();
    return {
      secret: authSecret,
      session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
      pages: { signIn: "/login" },
      callbacks: {
        session({ session, token }) {
          return { ...session, user: { ...session.user, id: token.sub } };
        },
      },
      providers: [
        CredentialsProvider({
          name: "Strongbox",
          credentials: { username: { label: "User name", type: "text" }, password: { label: "Password", type: "password" } },
          async authorize(credentials) {
            const username = credentials?.username ?? "";
            const password = credentials?.password ?? "";
            if (!username || !password) throw new Error("Enter your user name and password.");
            try {
              const user = await users.authenticate(username, password);
              return { id: String(user.id), name: user.username };
            } catch (err) {
              if (isUserError(err)) throw new Error(err.message);
              throw err;
            }
          },
        }),
      ],
    } satisfies NextAuthOptions;
  })();
  return cached;
}
