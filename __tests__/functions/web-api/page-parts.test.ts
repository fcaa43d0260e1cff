/** The option controls both pages show: a choice sends nothing unless the user picks, but for a preset; the web app's page starts on a redaction. */
import { DETECT_REQUEST, SAFE_MARK } from '../../../functions/detect-faces/contract';
import { appPage } from '../../../functions/web-api/page';
import { optionControls } from '../../../functions/web-api/page-parts';

/** The selected option of each <select data-option>, '' for the empty "default". */
const selected = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<select data-option="(\w+)"[^>]*>(.*?)<\/select>/gs)].map(([, name, options]) => [name, /<option(?: value="([^"]*)")? selected>([^<]*)</.exec(options)!.slice(1).find((v) => v !== undefined)!]),
  );

test('each choice starts on an empty "default" that sends nothing (the function\'s or the deployment\'s default applies), not on the contract\'s value', () => {
  const choices = Object.entries(DETECT_REQUEST).filter(([, spec]) => spec.kind === 'enum').map(([name]) => name);
  expect(selected(optionControls())).toEqual(Object.fromEntries(choices.map((name) => [name, ''])));
  expect(selected(optionControls({ mark: 'blur' }))).toMatchObject({ mark: 'blur', shape: '', output: '' });
});

test("the web app's page starts on a redaction (SAFE_MARK): untouched, it no longer sends mark box over a deployment's default", () => {
  const { html } = appPage({ authorizeUrl: 'https://a.example/authorize', tokenUrl: 'https://a.example/token', clientId: 'c' }, 'https://b.example');
  expect(selected(html)).toMatchObject({ mark: SAFE_MARK, shape: '', output: '' });
});
