"""Model files: resolution of ``model``, loading and saving.

The only door to transformers (and to the model hub): nothing else in the
package imports transformers. A leaf: it imports no other subpackage.
"""
