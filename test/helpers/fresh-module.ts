/**
 * Loads a module afresh, in a registry of its own, as another Lambda instance or a cold start would. Its
 * module-level values (defaults, tables, shared clients) are then evaluated inside the calling spec, which is
 * also the only way mutation testing sees such a value fail a spec: Stryker switches a mutant on when a spec
 * starts, after the test file's own imports ran. `load` is a `require` of the module, written in the test file
 * so that the path is relative to it.
 */
export function freshModule<T>(load: () => T): T {
  let loaded: { module: T } | undefined;
  jest.isolateModules(() => {
    loaded = { module: load() };
  });
  if (!loaded) throw new Error('the module did not load');
  return loaded.module;
}
