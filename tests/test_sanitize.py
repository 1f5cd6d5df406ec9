"""The whitelist sanitiser: what remote servers send is cut down to safe, well-formed HTML."""

from __future__ import annotations

from node.sanitize import sanitize_html


def test_scripts_styles_and_handlers_are_removed_with_their_content() -> None:
    dirty = (
        '<p onclick="steal()">Hi<script>alert(1)</script><style>p{}</style>'
        "<iframe src=//evil></iframe><svg><script>x()</script></svg> there</p>"
    )
    assert sanitize_html(dirty) == "<p>Hi there</p>"


def test_links_keep_only_safe_schemes_and_get_rel() -> None:
    html = sanitize_html(
        '<a href="javascript:alert(1)">a</a> <a href="data:text/html,x">b</a> '
        '<a href="https://example.com/x?a=1&amp;b=2" target="_self" rel="me">c</a> '
        '<a href="//evil.example/">d</a>'
    )
    assert "javascript:" not in html and "data:" not in html and "evil" not in html
    assert (
        '<a href="https://example.com/x?a=1&amp;b=2" rel="nofollow noopener noreferrer" '
        'target="_blank">c</a>'
    ) in html


def test_mastodon_mentions_and_hashtags_keep_their_classes() -> None:
    html = sanitize_html(
        '<p><span class="h-card" translate="no"><a href="https://m.example/@ana" '
        'class="u-url mention evil-class">@<span>ana</span></a></span> look '
        '<a href="https://m.example/tags/cats" class="mention hashtag" rel="tag">#<span>cats'
        "</span></a></p>"
    )
    assert '<span class="h-card"><a href="https://m.example/@ana" class="u-url mention"' in html
    assert 'class="mention hashtag"' in html
    assert "evil-class" not in html and "translate" not in html


def test_unclosed_and_stray_tags_still_nest() -> None:
    assert sanitize_html("<p><b>bold <i>both</p></b></i>") == "<p><b>bold <i>both</i></b></p>"
    assert sanitize_html("</p>text<br/><img src=x onerror=y>") == "text<br>"


def test_text_is_escaped_again() -> None:
    assert (
        sanitize_html("&lt;script&gt; &amp; <p>a < b</p>") == "&lt;script&gt; &amp; <p>a &lt; b</p>"
    )
