/**
 * The shape of `GET /demo/tokens`, defined once: the route (./routes.ts)
 * answers with it and the browser app (web-demo/src/tokens.ts) reads it.
 * Types only, so the browser's bundle takes nothing from the server.
 */

export interface DemoActor {
  id: string;
  name: string;
  token: string;
}

export interface DemoTokens {
  expiresAt: string;
  admin: DemoActor;
  customers: DemoActor[];
  restaurants: DemoActor[];
  drivers: DemoActor[];
}
