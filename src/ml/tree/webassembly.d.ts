// The part of WebAssembly's JavaScript API that wasm-histogram.ts uses: TypeScript declares it in lib.dom, which
// this project does not load (Node has the API itself).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array)
  }
  class Instance {
    constructor(module: Module, imports: Record<string, Record<string, unknown>>)
    readonly exports: Record<string, unknown>
  }
  class Memory {
    constructor(descriptor: {initial: number; maximum?: number; shared?: boolean})
    readonly buffer: SharedArrayBuffer
  }
}
