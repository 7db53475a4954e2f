import { readConfig, SIGNER_NODE_OPTIONS } from '../../../lambdas/runtime/config';
import { ConfigurationError } from '../../../lambdas/signer/errors';
import { Network } from 'ethers';
import { chainIdFromNetwork, MAX_CHAIN_ID } from '../../../lambdas/runtime/chains';
import { freshModule } from '../../helpers/fresh-module';

const valid = { KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'sepolia' };

describe('readConfig', () => {
  it('reads the key, the network and the defaults, with no pinned address and no attempts override', () => {
    expect(readConfig(valid)).toStrictEqual({
      keyId: 'alias/eth-signer',
      network: 'sepolia',
      chainId: 11155111n,
      logLevel: 'INFO',
      allowPreEip155: false,
      kmsTimeouts: { connectTimeoutMs: 3000, requestTimeoutMs: 4000 },
      timeoutMarginMs: 1000,
    });
  });

  it('allows pre-EIP-155 signatures only when ALLOW_PRE_EIP155 is true', () => {
    expect(readConfig({ ...valid, ALLOW_PRE_EIP155: 'true' }).allowPreEip155).toBe(true);
    expect(readConfig({ ...valid, ALLOW_PRE_EIP155: 'false' }).allowPreEip155).toBe(false);
    expect(readConfig(valid).allowPreEip155).toBe(false);
  });

  it('reads the KMS timeouts, the attempts and the margin', () => {
    const config = readConfig({ ...valid, KMS_CONNECT_TIMEOUT_MS: '500', KMS_REQUEST_TIMEOUT_MS: '2500', AWS_MAX_ATTEMPTS: '2', TIMEOUT_MARGIN_MS: '0' });
    expect(config.kmsTimeouts).toEqual({ connectTimeoutMs: 500, requestTimeoutMs: 2500, maxAttempts: 2 });
    expect(config.timeoutMarginMs).toBe(0);
  });

  it.each([
    '0b1f8c6e-1d3a-4d2b-9a57-2b1c3d4e5f60',
    'mrk-1234abcd12ab34cd56ef1234567890ab',
    'arn:aws:kms:us-east-1:111122223333:key/0b1f8c6e-1d3a-4d2b-9a57-2b1c3d4e5f60',
    'alias/team/eth-hot-wallet',
    'arn:aws:kms:eu-west-1:111122223333:alias/eth-signer',
    'arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/0b1f8c6e-1d3a-4d2b-9a57-2b1c3d4e5f60',
  ])('accepts the key reference %s', (keyId) => {
    expect(readConfig({ ...valid, KMS_KEY_ID: keyId }).keyId).toBe(keyId);
  });

  it('pins EXPECTED_ADDRESS in its checksummed form and accepts a LOG_LEVEL in any case', () => {
    const config = readConfig({ ...valid, EXPECTED_ADDRESS: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', LOG_LEVEL: 'debug' });
    expect(config.expectedAddress).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(config.logLevel).toBe('DEBUG');
  });

  it.each([
    [{ ETH_NETWORK: 'sepolia' }, /KMS_KEY_ID is not set/],
    [{ ...valid, KMS_KEY_ID: 'my key' }, /KMS_KEY_ID "my key" is not a key id/],
    [{ KMS_KEY_ID: 'alias/x' }, /ETH_NETWORK is not set/],
    [{ ...valid, ETH_NETWORK: 'mainet' }, /ETH_NETWORK "mainet" is neither a known chain name/],
    [{ ...valid, ETH_NETWORK: '0' }, /ETH_NETWORK "0"/],
    [{ ...valid, ETH_NETWORK: '9007199254740992' }, /ETH_NETWORK "9007199254740992"/],
    [{ ...valid, LOG_LEVEL: 'LOUD' }, /LOG_LEVEL "LOUD" is not one of TRACE, DEBUG, INFO/],
    [{ ...valid, KMS_CONNECT_TIMEOUT_MS: '0' }, /KMS_CONNECT_TIMEOUT_MS "0" is not a connection timeout in milliseconds: give a whole number from 1 to 900000/],
    [{ ...valid, KMS_REQUEST_TIMEOUT_MS: '4s' }, /KMS_REQUEST_TIMEOUT_MS "4s" is not a request timeout/],
    [{ ...valid, AWS_MAX_ATTEMPTS: '11' }, /AWS_MAX_ATTEMPTS "11" is not a number of attempts per KMS call: give a whole number from 1 to 10/],
    [{ ...valid, TIMEOUT_MARGIN_MS: '-1' }, /TIMEOUT_MARGIN_MS "-1" is not a margin/],
    [{ ...valid, EXPECTED_ADDRESS: '0xF39fd6e51aad88f6f4ce6ab8827279cfffb92266' }, /EXPECTED_ADDRESS .* EIP-55 checksum/],
    [{ ...valid, ALLOW_PRE_EIP155: 'yes' }, /ALLOW_PRE_EIP155 "yes" must be true or false/],
  ])('names the variable when a setting is missing or invalid (%o)', (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigurationError);
    expect(() => readConfig(env)).toThrow(message);
  });

  it('ignores spaces around every variable, and reads ALLOW_PRE_EIP155 in any case', () => {
    const config = readConfig({
      KMS_KEY_ID: ' alias/eth-signer\n',
      ETH_NETWORK: ' sepolia ',
      LOG_LEVEL: ' warn ',
      EXPECTED_ADDRESS: ' 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266 ',
      ALLOW_PRE_EIP155: ' TRUE ',
      KMS_CONNECT_TIMEOUT_MS: ' 500 ',
    });
    expect(config).toMatchObject({
      keyId: 'alias/eth-signer',
      network: 'sepolia',
      chainId: 11155111n,
      logLevel: 'WARN',
      expectedAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      allowPreEip155: true,
      kmsTimeouts: { connectTimeoutMs: 500 },
    });
  });

  it('takes the defaults for optional variables that are blank', () => {
    const blank = { LOG_LEVEL: ' ', EXPECTED_ADDRESS: ' ', ALLOW_PRE_EIP155: ' ', KMS_CONNECT_TIMEOUT_MS: ' ', KMS_REQUEST_TIMEOUT_MS: '', AWS_MAX_ATTEMPTS: ' ', TIMEOUT_MARGIN_MS: ' ' };
    expect(readConfig({ ...valid, ...blank })).toStrictEqual(readConfig(valid));
  });

  it('treats a blank KMS_KEY_ID or ETH_NETWORK as not set', () => {
    expect(() => readConfig({ KMS_KEY_ID: '  ', ETH_NETWORK: '  ' })).toThrow(/KMS_KEY_ID is not set.*ETH_NETWORK is not set/);
  });

  it('accepts each whole-number setting at both ends of its range', () => {
    const low = readConfig({ ...valid, KMS_CONNECT_TIMEOUT_MS: '1', KMS_REQUEST_TIMEOUT_MS: '1', AWS_MAX_ATTEMPTS: '1', TIMEOUT_MARGIN_MS: '0' });
    expect(low).toMatchObject({ kmsTimeouts: { connectTimeoutMs: 1, requestTimeoutMs: 1, maxAttempts: 1 }, timeoutMarginMs: 0 });
    const high = readConfig({ ...valid, KMS_CONNECT_TIMEOUT_MS: '900000', KMS_REQUEST_TIMEOUT_MS: '900000', AWS_MAX_ATTEMPTS: '10', TIMEOUT_MARGIN_MS: '900000' });
    expect(high).toMatchObject({ kmsTimeouts: { connectTimeoutMs: 900000, requestTimeoutMs: 900000, maxAttempts: 10 }, timeoutMarginMs: 900000 });
  });

  it.each([
    ['KMS_CONNECT_TIMEOUT_MS', '900001'],
    ['KMS_REQUEST_TIMEOUT_MS', '0'],
    ['AWS_MAX_ATTEMPTS', '0'],
    ['TIMEOUT_MARGIN_MS', '900001'],
    ['KMS_CONNECT_TIMEOUT_MS', '5e2'],
    ['KMS_CONNECT_TIMEOUT_MS', '0x1f4'],
    ['KMS_REQUEST_TIMEOUT_MS', '1.5'],
    ['AWS_MAX_ATTEMPTS', '+3'],
  ])('refuses %s=%s, which is not a whole number in range', (name, text) => {
    expect(() => readConfig({ ...valid, [name]: text })).toThrow(new RegExp(`${name} "${text.replace(/[.+]/g, '\\$&')}" is not .*: give a whole number from \\d+ to \\d+`));
  });

  it('quotes at most 20 characters of a bad whole-number setting', () => {
    expect(() => readConfig({ ...valid, TIMEOUT_MARGIN_MS: '1'.repeat(30) })).toThrow(`TIMEOUT_MARGIN_MS "${'1'.repeat(20)}" is not a margin in milliseconds: give a whole number from 0 to 900000`);
  });

  it('quotes LOG_LEVEL, EXPECTED_ADDRESS and ALLOW_PRE_EIP155 as given', () => {
    expect(() => readConfig({ ...valid, LOG_LEVEL: ' loud ' })).toThrow('LOG_LEVEL " loud " is not one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT');
    expect(() => readConfig({ ...valid, EXPECTED_ADDRESS: '0x12' })).toThrow('EXPECTED_ADDRESS "0x12" is not an address (0x and 40 hex digits, with a valid EIP-55 checksum if mixed-case)');
    expect(() => readConfig({ ...valid, ALLOW_PRE_EIP155: 'Yes' })).toThrow('ALLOW_PRE_EIP155 "Yes" must be true or false');
  });

  it('reports every bad variable at once', () => {
    expect(() => readConfig({})).toThrow(/KMS_KEY_ID is not set.*ETH_NETWORK is not set/);
  });
});

describe('readConfig in Lambda: the start-up self-check (defense in depth; the guard SCP is the control)', () => {
  const inLambda = { ...valid, AWS_LAMBDA_FUNCTION_NAME: 'eth-signer-eip1559', NODE_OPTIONS: SIGNER_NODE_OPTIONS };

  it('starts with the NODE_OPTIONS the stack sets', () => {
    expect(SIGNER_NODE_OPTIONS).toBe('--enable-source-maps');
    expect(readConfig(inLambda).keyId).toBe('alias/eth-signer');
  });

  it.each([
    ['--import=data:text/javascript,globalThis.x=1', 'code loaded before the handler'],
    ['--enable-source-maps --require /opt/hook.js', 'an extra --require'],
    ['', 'none at all'],
  ])('refuses NODE_OPTIONS %j (%s): someone changed the configuration outside the stack', (nodeOptions) => {
    expect(() => readConfig({ ...inLambda, NODE_OPTIONS: nodeOptions })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', message: expect.stringMatching(/NODE_OPTIONS ".*" is not the deployment's \(--enable-source-maps\): someone changed the function's configuration outside the stack/) }),
    );
  });

  it('refuses a missing NODE_OPTIONS', () => {
    const { NODE_OPTIONS: _omitted, ...withoutOptions } = inLambda;
    expect(() => readConfig(withoutOptions)).toThrow(/NODE_OPTIONS "" is not the deployment's/);
  });

  it.each(['POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_DEV'])('refuses %s, which would silence the metrics the alarms watch', (name) => {
    expect(() => readConfig({ ...inLambda, [name]: 'true' })).toThrow(new RegExp(`${name} is set: the stack never sets it, and it would silence the signing metrics the alarms watch`));
  });

  it('quotes at most 100 characters of NODE_OPTIONS', () => {
    const error = (() => {
      try {
        readConfig({ ...inLambda, NODE_OPTIONS: `--import=${'x'.repeat(500)}` });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('readConfig accepted the NODE_OPTIONS');
    })();
    expect(error.message).toContain(`"--import=${'x'.repeat(91)}"`);
  });

  it('checks nothing of the kind outside Lambda (local stack, tests)', () => {
    expect(readConfig({ ...valid, NODE_OPTIONS: '--import=tsx', POWERTOOLS_DEV: 'true' }).keyId).toBe('alias/eth-signer');
  });
});

describe('ConfigurationError', () => {
  it('is named ConfigurationError, lists every problem, says what to fix and keeps the cause', () => {
    const cause = new Error('AccessDeniedException');
    const error = new ConfigurationError(['A is not set', 'B is bad'], cause);
    expect(error.name).toBe('ConfigurationError');
    expect(error.message).toBe("The signer is misconfigured: A is not set; B is bad. Fix the function's environment variables.");
    expect(error.problems).toEqual(['A is not set', 'B is bad']);
    expect(error.cause).toBe(cause);
  });

  it('is what readConfig throws, with the problems it found', () => {
    let thrown: unknown;
    try {
      readConfig({ ETH_NETWORK: 'sepolia' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).problems).toEqual(['KMS_KEY_ID is not set: give the key id, key ARN, alias/NAME or alias ARN']);
  });
});

describe('chainIdFromNetwork', () => {
  // The chain table and the cap are module-level values: specs of them read a fresh load (see freshModule).
  const fresh = () => freshModule(() => require('../../../lambdas/runtime/chains') as typeof import('../../../lambdas/runtime/chains'));

  it.each([
    ['mainnet', 1n],
    ['sepolia', 11155111n],
    ['holesky', 17000n],
    ['hoodi', 560048n],
    ['anvil', 31337n],
    ['localhost', 31337n],
    ['31337', 31337n],
    ['8453', 8453n],
  ])('resolves %s to chain %s', (network, chainId) => {
    expect(fresh().chainIdFromNetwork(network)).toBe(chainId);
    expect(chainIdFromNetwork(network)).toBe(chainId);
  });

  it.each(['', 'nope', '-1', '0x1', '01', '1.5'])('does not resolve %j', (network) => {
    expect(chainIdFromNetwork(network)).toBeUndefined();
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    'does not resolve the Object.prototype member %j',
    (network) => {
      expect(chainIdFromNetwork(network)).toBeUndefined();
      expect(() => readConfig({ ...valid, ETH_NETWORK: network })).toThrow(ConfigurationError);
      expect(() => readConfig({ ...valid, ETH_NETWORK: network })).toThrow(`ETH_NETWORK "${network}" is neither a known chain name`);
    },
  );

  it('refuses a network registered with ethers (by any code in the process) whose chain id is 0 or above the cap', () => {
    Network.register('test-chain-zero', () => new Network('test-chain-zero', 0n));
    Network.register('test-chain-huge', () => new Network('test-chain-huge', MAX_CHAIN_ID + 1n));
    Network.register('test-chain-at-cap', () => new Network('test-chain-at-cap', MAX_CHAIN_ID));
    expect(chainIdFromNetwork('test-chain-zero')).toBeUndefined();
    expect(chainIdFromNetwork('test-chain-huge')).toBeUndefined();
    expect(chainIdFromNetwork('test-chain-at-cap')).toBe(MAX_CHAIN_ID);
  });

  it('accepts chain ids up to the largest whose legacy v (2·chainId + 36) is a safe integer, and refuses the next', () => {
    expect(fresh().MAX_CHAIN_ID).toBe(4503599627370477n);
    expect(chainIdFromNetwork('4503599627370477')).toBe(4503599627370477n);
    expect(2 * 4503599627370477 + 36).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(chainIdFromNetwork('4503599627370478')).toBeUndefined();
    expect(() => readConfig({ ...valid, ETH_NETWORK: '4503599627370496' })).toThrow(/ETH_NETWORK "4503599627370496" .* from 1 to 4503599627370477 .*safe JSON integer/);
  });
});
