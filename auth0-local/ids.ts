/** Identifier formats as Auth0 issues them (`org_` + 16 alphanumerics, 32-character client ids, …). */
import { randomBytes, randomInt } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function alphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

export const newId = {
  organization: () => `org_${alphanumeric(16)}`,
  connection: () => `con_${alphanumeric(16)}`,
  role: () => `rol_${alphanumeric(16)}`,
  invitation: () => `uinv_${alphanumeric(16)}`,
  clientGrant: () => `cgr_${alphanumeric(16)}`,
  selfServiceProfile: () => `ssp_${alphanumeric(22)}`,
  discoveryDomain: () => `ord_${alphanumeric(16)}`,
  clientId: () => alphanumeric(32),
  clientSecret: () => randomBytes(48).toString('base64url'),
  userId: () => randomBytes(12).toString('hex'),
  resourceServer: () => randomBytes(12).toString('hex'),
  ticket: () => alphanumeric(32),
};
