import { padTo32 } from '../../bench/plain-look';

test('padTo32: the smallest multiple of 32 that holds n', () => {
  expect([1, 32, 33, 500, 640].map(padTo32)).toEqual([32, 32, 64, 512, 640]);
});
