/**
 * Every error a request can raise reaches the client as a documented VS_* code
 * (issue 14: raw FST_ERR_* codes and exception text reached clients).
 */
import { describe, expect, it } from 'vitest'
import { describeValidation, toErrorReply } from '../src/errors.js'

describe('toErrorReply', () => {
  it("should map Fastify's body-parser codes to documented ones", () => {
    const cases: [string, number, number, string][] = [
      ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 400, 'VS_GW_BAD_JSON'],
      ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 400, 'VS_GW_BAD_JSON'],
      ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 413, 'VS_GW_BODY_TOO_LARGE'],
      ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 415, 'VS_GW_UNSUPPORTED_MEDIA_TYPE'],
      ['FST_ERR_SOMETHING_NEW', 405, 405, 'VS_GW_METHOD_NOT_ALLOWED'],
      ['FST_ERR_SOMETHING_ELSE', 400, 400, 'VS_GW_BAD_REQUEST'],
    ]
    for (const [code, statusCode, status, mapped] of cases) {
      const out = toErrorReply({ code, statusCode, message: 'x' })
      expect(out).toMatchObject({ status, code: mapped })
    }
  })

  it('should keep our own codes and hide 5xx internals', () => {
    expect(toErrorReply({ code: 'VS_GW_UNKNOWN_TOPIC', statusCode: 400, message: 'm' })).toEqual({
      status: 400,
      code: 'VS_GW_UNKNOWN_TOPIC',
      message: 'm',
      internal: false,
    })
    expect(
      toErrorReply({ code: 'VS_GW_CONTROL_TIMEOUT', statusCode: 504, message: 'm' }).code,
    ).toBe('VS_GW_CONTROL_TIMEOUT')
    const crash = toErrorReply(new RangeError('Maximum call stack size exceeded'))
    expect(crash).toEqual({
      status: 500,
      code: 'VS_GW_INTERNAL',
      message: 'internal error',
      internal: true,
    })
  })

  it('should say where a body stopped being JSON without the exception text', () => {
    const parseError = (text: string) => {
      try {
        JSON.parse(text)
      } catch (e) {
        return Object.assign(e as SyntaxError, { statusCode: 400 })
      }
      throw new Error('parsed')
    }
    const where = toErrorReply(parseError('{x}'))
    expect(where.code).toBe('VS_GW_BAD_JSON')
    expect(where.message).toBe('the body is not valid JSON (at position 1)')
    // V8 words some failures with the input itself: none of it is passed on
    expect(toErrorReply(parseError('{"multiplier":}')).message).toBe('the body is not valid JSON')
  })
})

describe('describeValidation', () => {
  it('should name the field of each problem', () => {
    expect(
      describeValidation('body', [
        { instancePath: '/multiplier', keyword: 'type', message: 'must be number' },
        { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'x' } },
        { instancePath: '', keyword: 'required', params: { missingProperty: 'scenarioId' } },
      ]),
    ).toBe(
      'body/multiplier: must be number; body: unexpected field "x"; body: missing required field "scenarioId"',
    )
  })
})
