import { parseRequest } from '../../../functions/detect-faces/request';

test('a plain http(s) URL is accepted', () => {
  expect(parseRequest({ imageUrl: 'https://example.com/a.jpg?x=1' }).imageUrl.href).toBe('https://example.com/a.jpg?x=1');
  expect(parseRequest({ imageUrl: '  http://example.com/a.png ' }).imageUrl.hostname).toBe('example.com');
  expect(parseRequest('{"imageUrl":"https://example.com/a.jpg"}').imageUrl.pathname).toBe('/a.jpg');
});

test.each([
  [null, /JSON object/],
  [42, /JSON object/],
  [[], /JSON object/],
  ['not json', /JSON object/],
  [{}, /imageUrl is required/],
  [{ imageUrl: '' }, /imageUrl is required/],
  [{ imageUrl: 7 }, /must be a string, got number/],
  [{ imageUrl: ['https://a'] }, /must be a string, got array/],
  [{ imageUrl: 'example.com/a.jpg' }, /not a valid absolute URL/],
  [{ imageUrl: 'file:///etc/passwd' }, /http or https, not file/],
  [{ imageUrl: 'ftp://example.com/a.jpg' }, /not ftp/],
  [{ imageUrl: 'gopher://example.com/' }, /not gopher/],
  [{ imageUrl: 'data:image/png;base64,AAAA' }, /not data/],
  [{ imageUrl: 'https://user:pw@example.com/a.jpg' }, /user name or password/],
  [{ imageUrl: `https://example.com/${'a'.repeat(3000)}` }, /longer than 2048/],
])('%j is refused with InvalidInput', (event, message) => {
  expect(() => parseRequest(event)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(message) }));
});
