# Sphinx configuration for the nova-vfio-lm documentation.

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'sphinx.ext.graphviz',
]
# the diagrams need Graphviz's dot (bindep.txt, profile doc)
graphviz_output_format = 'svg'

project = 'nova-vfio-lm'
copyright = 'nova-vfio-lm developers'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
html_theme = 'openstackdocs'
openstackdocs_repo_name = 'nova-vfio-lm'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
