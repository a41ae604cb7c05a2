"""(docstring written when the package is complete)"""
