/** The error a promise rejects with; fails the test if it resolves instead. */
export function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: Error) => error,
  );
}

/** The error of the given class that `call` throws; fails the test if it returns, and lets any other error through. */
export function thrownBy<E extends Error>(errorClass: abstract new (...args: never[]) => E, call: () => unknown): E {
  try {
    call();
  } catch (error) {
    if (error instanceof errorClass) return error;
    throw error;
  }
  throw new Error(`expected ${errorClass.name}`);
}
