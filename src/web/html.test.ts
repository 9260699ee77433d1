// The html template escapes every interpolated value unless it is SafeHtml, so user input
// never becomes markup.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, html, SafeHtml } from './html.ts';

describe('escapeHtml', () => {
  it('escapes all five HTML-significant characters', () => {
    assert.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
    assert.equal(
      escapeHtml('<a href="x" title=\'y\'>&amp;</a>'),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('leaves other text, including non-ASCII, untouched', () => {
    assert.equal(escapeHtml('Zoë / naïve = ok ` ©'), 'Zoë / naïve = ok ` ©');
  });
});

describe('html template', () => {
  it('escapes interpolated strings but not the template text', () => {
    const name = `<script>alert("x")</script>`;
    assert.equal(
      html`<p class="n">${name}</p>`.value,
      '<p class="n">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>',
    );
    assert.equal(html`<input value='${"' onfocus='x"}'>`.value, "<input value='&#39; onfocus=&#39;x'>");
  });

  it('passes SafeHtml through unescaped, so nested templates are not escaped twice', () => {
    const inner = html`<b>${'a&b'}</b>`;
    assert.ok(inner instanceof SafeHtml);
    assert.equal(html`<p>${inner}</p>`.value, '<p><b>a&amp;b</b></p>');
    assert.equal(html`${new SafeHtml('<hr>')}`.value, '<hr>');
    assert.equal(String(inner), '<b>a&amp;b</b>');
  });

  it('flattens nested arrays, escaping strings and passing SafeHtml in each', () => {
    const items = ['<1>', [html`<i>2</i>`, ['"3"', [html`<u>${'<4>'}</u>`]]]];
    assert.equal(html`<ul>${items}</ul>`.value, '<ul>&lt;1&gt;<i>2</i>&quot;3&quot;<u>&lt;4&gt;</u></ul>');
    assert.equal(
      html`<ul>${['a', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value,
      '<ul><li>a</li><li>b</li></ul>',
    );
  });

  it('renders null, undefined and false as nothing, and numbers and zero as text', () => {
    assert.equal(html`[${null}${undefined}${false}]`.value, '[]');
    assert.equal(html`[${0}|${42}|${-1.5}]`.value, '[0|42|-1.5]');
  });

  it('does not treat a look-alike object as SafeHtml', () => {
    const fake = { value: '<img src=x onerror=alert(1)>', toString: () => '<img src=x onerror=alert(1)>' };
    assert.equal(html`${fake as unknown as string}`.value, '&lt;img src=x onerror=alert(1)&gt;');
  });
});
