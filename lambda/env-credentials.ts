/**
 * Stands in for @aws-sdk/credential-provider-node in the bundles (esbuild alias). A Lambda function
 * gets its role's credentials from the environment only; the default chain's SSO, INI-file, web
 * identity and instance-metadata providers were a third of the bundle and of its load time.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
