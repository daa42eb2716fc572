import assert from 'node:assert/strict';
import {
  normaliseLanguageKey, normaliseLanguageMap, readMetadata, toPlainText,
} from '../../../harvester/iiif/language.ts';

describe('language maps', function () {
  describe('normaliseLanguageKey', function () {
    const cases: Array<[unknown, string]> = [
      ['en', 'en'], ['zh-Hant-CN', 'zh-Hant-CN'], ['cy', 'cy'], ['x-private', 'x-private'], ['none', 'none'],
      // Bogus keys seen in real data.
      ['@none', 'none'], ['', 'none'], ['  ', 'none'], ['xx yy', 'none'], ['123', 'none'], ['1', 'none'],
      ['@language', 'none'], ['en!', 'none'], [42, 'none'], [undefined, 'none'],
      // A common slip that still says which language it is.
      ['en_US', 'en-US'], [' fr ', 'fr'],
    ];
    for (const [key, expected] of cases) {
      it(`${JSON.stringify(key)} → ${expected}`, function () {
        assert.equal(normaliseLanguageKey(key), expected);
      });
    }
  });

  describe('normaliseLanguageMap', function () {
    it('v2 plain string', function () {
      assert.deepEqual(normaliseLanguageMap('A title'), { none: ['A title'] });
    });

    it('v2 list of strings and {@value,@language} objects', function () {
      assert.deepEqual(
        normaliseLanguageMap(['plain', { '@value': 'titre', '@language': 'fr' }, { '@value': 'title', '@language': 'en' }]),
        { none: ['plain'], fr: ['titre'], en: ['title'] },
      );
    });

    it('v2 literal without @value says nothing', function () {
      assert.deepEqual(normaliseLanguageMap({ '@language': 'en' }), {});
    });

    it('v3 map with bogus keys merges them into "none"', function () {
      assert.deepEqual(
        normaliseLanguageMap({ '@none': ['a'], '': ['b'], 'xx yy': 'c', '12': ['d'], en: ['e'], none: ['f'] }),
        { none: ['d', 'a', 'b', 'c', 'f'], en: ['e'] },
      );
    });

    it('numbers and booleans become text; null, objects and empty strings are dropped', function () {
      assert.deepEqual(normaliseLanguageMap(1.0), { none: ['1'] });
      assert.deepEqual(normaliseLanguageMap({ en: [2, true, null, '', { nested: 'x' }] }), { en: ['2', 'true'] });
      assert.deepEqual(normaliseLanguageMap(null), {});
      assert.deepEqual(normaliseLanguageMap(undefined), {});
      assert.deepEqual(normaliseLanguageMap(''), {});
    });

    it('HTML values become plain text', function () {
      assert.deepEqual(normaliseLanguageMap({ en: ['<p>Some <b>HTML</b></p>'] }), { en: ['Some HTML'] });
    });

    it('is bounded: at most 1000 values, each at most 64 KiB before cleaning', function () {
      const map = normaliseLanguageMap({ en: Array.from({ length: 5000 }, (_, i) => `v${i}`) });
      assert.equal(map['en']!.length, 1000);
      assert.equal(normaliseLanguageMap('x'.repeat(200_000))['none']![0]!.length, 65_536);
    });
  });

  describe('toPlainText', function () {
    const cases: Array<[string, string, string]> = [
      ['script with its content', '<span><script>function ownzor() {}</script>Naughty</span>', 'Naughty'],
      ['event-handler attribute', "<span onmouseover='ownzor()'>Naughty</span>", 'Naughty'],
      ['comment hiding a script', '<span><!-- &lt;script>function ownzor() {}&lt;/script>-->Naughty</span>', 'Naughty'],
      ['unterminated script', 'ok<script>alert(1)', 'ok'],
      ['img with onerror', '<img src=x onerror=alert(1)>picture', 'picture'],
      ['unknown tag with attributes, and its closing tag', '<x onclick="evil()">hi</x>', 'hi'],
      ['entities smuggling a script', '&lt;script&gt;alert(1)&lt;/script&gt;fine', 'fine'],
      ['block tags become line breaks', '<p>a</p><p>b &amp; c</p>', 'a\nb & c'],
      ['inline tags vanish', 'a <b>bold</b> <a href="https://example.org">link</a>', 'a bold link'],
      ['angle brackets that are text stay', '<x> <y> <plain text>', '<x> <y> <plain text>'],
      ['comparison signs stay', 'x < y and y > z', 'x < y and y > z'],
      ['named and numeric entities', 'AT&amp;T &copy; 2020 &#8212; &#x41;', 'AT&T © 2020 — A'],
      ['plain text is only trimmed', '  keep   spacing ', 'keep   spacing'],
    ];
    for (const [what, input, expected] of cases) {
      it(what, function () {
        assert.equal(toPlainText(input), expected);
      });
    }
  });

  describe('readMetadata', function () {
    it('keeps v2 and v3 pairs, drops entries without a value', function () {
      assert.deepEqual(
        readMetadata([
          { label: 'Date', value: '1779' },
          { label: { en: ['Author'] }, value: { none: ['Anne'] } },
          { label: 'Empty' },
          'not an entry',
        ]),
        [
          { label: { none: ['Date'] }, value: { none: ['1779'] } },
          { label: { en: ['Author'] }, value: { none: ['Anne'] } },
        ],
      );
    });

    it('accepts a single pair given as an object', function () {
      assert.equal(readMetadata({ label: 'a', value: 'b' }).length, 1);
    });
  });
});
