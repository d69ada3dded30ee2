# Sphinx configuration for the nova-vfio-lm release notes.

extensions = ['reno.sphinxext']
project = 'nova-vfio-lm release notes'
copyright = 'nova-vfio-lm developers'
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
