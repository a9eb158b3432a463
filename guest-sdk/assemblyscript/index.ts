// The package entry: import { handle, Context, ... } from "@wactor/sdk".
export * from "./assembly/index";
