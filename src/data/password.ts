import { randomBytes, scrypt } from 'node:crypto'

const cost = { N: 16384, r: 8, p: 1 }
const keyLength = 32

/** What `hashed_password` holds for a user created without a password: no hash ever equals it, so no password opens the account. */
export const unusablePassword = '!'

/** A PHC string (`$scrypt$ln=14,r=8,p=1$salt$hash`), so a verifier in any language can read the parameters back. */
export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, cost, (error, derived) => { error === null ? resolve(derived) : reject(error) })
  })
  return `$scrypt$ln=${Math.log2(cost.N)},r=${cost.r},p=${cost.p}$${phcBase64(salt)}$${phcBase64(key)}`
}

function phcBase64 (bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '')
}
