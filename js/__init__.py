"""The TF.js bundle's JavaScript, shipped as package data: ``src/`` (its ES modules),
``package.json`` (the esbuild that builds them and the TF.js they are built for) and
``harness/`` (the browser test page). ``ddspgl.tools.emit`` builds the bundle from them.
"""
