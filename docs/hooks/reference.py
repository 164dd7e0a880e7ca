"""The mkdocs hook (``hooks:`` in mkdocs.yml) that puts the reference generated from the code
into the pages that ask for it: ``devtools/docs_reference.py`` renders them.

It lives apart from ``devtools/`` because mkdocs puts a hook's folder first on ``sys.path``,
where ``devtools/dns.py`` would stand in for dnspython's ``dns``.
"""

from devtools.docs_reference import on_page_markdown

__all__ = ["on_page_markdown"]
