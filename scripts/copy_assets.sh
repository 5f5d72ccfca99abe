#!/bin/sh
# Copies the front-end files the pages use from node_modules into static/vendor.
set -eu
src=node_modules
dst=static/vendor
rm -rf "$dst"
mkdir -p "$dst/bootstrap" "$dst/bootstrap-icons" "$dst/htmx" "$dst/tom-select" "$dst/chartjs"
cp "$src/bootstrap/dist/css/bootstrap.min.css" "$src/bootstrap/dist/js/bootstrap.bundle.min.js" "$dst/bootstrap/"
cp "$src/bootstrap-icons/font/bootstrap-icons.min.css" "$dst/bootstrap-icons/"
cp -r "$src/bootstrap-icons/font/fonts" "$dst/bootstrap-icons/fonts"
cp "$src/htmx.org/dist/htmx.min.js" "$dst/htmx/"
cp "$src/tom-select/dist/css/tom-select.bootstrap5.min.css" "$src/tom-select/dist/js/tom-select.complete.min.js" "$dst/tom-select/"
cp "$src/chart.js/dist/chart.umd.min.js" "$dst/chartjs/"
# The source maps the minified files point to: collectstatic's manifest storage (production)
# refuses a file whose sourceMappingURL leads nowhere.
cp "$src/bootstrap/dist/css/bootstrap.min.css.map" "$src/bootstrap/dist/js/bootstrap.bundle.min.js.map" "$dst/bootstrap/"
cp "$src/tom-select/dist/css/tom-select.bootstrap5.min.css.map" "$src/tom-select/dist/js/tom-select.complete.min.js.map" "$dst/tom-select/"
cp "$src/chart.js/dist/chart.umd.min.js.map" "$dst/chartjs/"
