// The ABI exports. An actor's entry file re-exports them:
//   export * from "@wactor/sdk/exports";
export * from "./assembly/exports";
