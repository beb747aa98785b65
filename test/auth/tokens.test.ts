import t from 'tap'
import { createTokenVerifier, parseApiTokens, scopeOf } from '../../src/auth/tokens.js'

t.test('the verifier answers as scopeOf does, the highest scope a secret holds', async (t) => {
  const tokens = parseApiTokens('read=r34d,admin=s3cret,write=s3cret')
  const verify = createTokenVerifier(tokens)
  for (const secret of ['r34d', 's3cret', 'nope', '', 'r34d ', 'R34D']) {
    t.equal(verify(secret), scopeOf(tokens, secret), `'${secret}'`)
    t.equal(verify(secret), scopeOf(tokens, secret), `'${secret}' again, remembered or not`)
  }
  t.equal(verify('s3cret'), 'admin')
  t.equal(verify('nope'), null)
})

t.test('an unknown secret is never remembered: it is checked against the tokens each time', async (t) => {
  const tokens = parseApiTokens('read=r34d')
  const verify = createTokenVerifier(tokens)
  const mutable = tokens as Array<{ scope: string, digest: Buffer }>
  t.equal(verify('later'), null)
  mutable.push(...parseApiTokens('write=later'))
  t.equal(verify('later'), 'write', 'not a remembered miss')
})
