# The layer rule of sim/README.md, checked: a file may include headers of
# its own layer and of the layers below it, never of a layer above.
#   cmake -DROOT=<source dir> -P cmake/check_layers.cmake
# Exit status non-zero (and every offending line listed) on a violation.
#
# Layers from the bottom up; each may include the ones before it, except
# that sim/verify and sim/sweep are siblings on sim/world: verify may not
# include sweep (checked below, as core's ban on sim/).
set(layers core sim/engine sim/scenario sim/output sim/world sim/sweep sim/verify sim/cli)

if(NOT ROOT)
  message(FATAL_ERROR "check_layers: pass -DROOT=<source dir>")
endif()
set(violations "")
list(LENGTH layers n)
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  list(GET layers ${i} layer)
  # The layers above this one: none of their headers may be included here.
  set(above "")
  if(i LESS last)
    math(EXPR first_above "${i} + 1")
    foreach(j RANGE ${first_above} ${last})
      list(GET layers ${j} up)
      list(APPEND above ${up})
    endforeach()
  endif()
  if(layer STREQUAL "core")
    list(APPEND above sim)  # core knows nothing of the simulator
  endif()
  if(layer STREQUAL "sim/verify")
    list(APPEND above sim/sweep)  # a sibling: verify runs the world, not sweeps
  endif()
  file(GLOB files ${ROOT}/${layer}/*.h ${ROOT}/${layer}/*.cc)
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${lines})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
      foreach(up ${above})
        string(LENGTH "${up}/" len)
        string(SUBSTRING "${inc}" 0 ${len} head)
        if(head STREQUAL "${up}/")
          file(RELATIVE_PATH rel ${ROOT} ${f})
          list(APPEND violations "${rel}: includes \"${inc}\" (${up}/ is above ${layer}/)")
        endif()
      endforeach()
    endforeach()
  endforeach()
endforeach()
if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layer rule broken (see sim/README.md):\n  ${text}")
endif()
