;; The histogram kernel of gradient boosting (k = 1), as WebAssembly: the same sums in the same order as
;; buildHistogram in histogram.ts, so the results are bit-identical, about 2.4× faster than V8 runs that loop.
;; scripts/build-wasm.mjs compiles this file into histogram-wasm.ts (`npm run build:wasm`).
;;
;; hist1(bins, nFeatures, rows, start, end, grad, hess, hist, from, to): for features [from, to), sets the
;; histogram to the sums over rows[start..end) of (gradient, hessian, 1) per bin. All arguments but the counts
;; are byte offsets into the imported memory: bins nRows × nFeatures u8 (row-major), rows i32, grad and hess f64
;; by row, hist nFeatures × 256 bins × 3 f64 (6,144 bytes per feature).
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "hist1")
    (param $bins i32) (param $nF i32) (param $rows i32) (param $start i32) (param $end i32)
    (param $grad i32) (param $hess i32) (param $hist i32) (param $from i32) (param $to i32)
    (local $i i32) (local $r i32) (local $g f64) (local $h f64) (local $gh v128) (local $rb i32) (local $f i32) (local $o i32)
    (local $p i32) (local $first i32)
    (br_if 0 (i32.ge_s (local.get $from) (local.get $to)))
    (local.set $first (i32.add (local.get $hist) (i32.mul (local.get $from) (i32.const 6144))))
    (memory.fill
      (local.get $first)
      (i32.const 0)
      (i32.mul (i32.sub (local.get $to) (local.get $from)) (i32.const 6144)))
    (local.set $i (local.get $start))
    (block $done
      (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
      (loop $row
        (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $g (f64.load (i32.add (local.get $grad) (i32.shl (local.get $r) (i32.const 3)))))
        (local.set $h (f64.load (i32.add (local.get $hess) (i32.shl (local.get $r) (i32.const 3)))))
        ;; (gradient, hessian) as one 128-bit pair: both sums in one add.
        (local.set $gh (f64x2.replace_lane 1 (f64x2.splat (local.get $g)) (local.get $h)))
        (local.set $rb (i32.add (local.get $bins) (i32.mul (local.get $r) (local.get $nF))))
        (local.set $f (local.get $from))
        (local.set $o (local.get $first))
        (loop $feature
          (local.set $p
            (i32.add
              (local.get $o)
              (i32.mul (i32.load8_u (i32.add (local.get $rb) (local.get $f))) (i32.const 24))))
          (v128.store offset=0 (local.get $p) (f64x2.add (v128.load offset=0 (local.get $p)) (local.get $gh)))
          (f64.store offset=16 (local.get $p) (f64.add (f64.load offset=16 (local.get $p)) (f64.const 1)))
          (local.set $o (i32.add (local.get $o) (i32.const 6144)))
          (local.set $f (i32.add (local.get $f) (i32.const 1)))
          (br_if $feature (i32.lt_s (local.get $f) (local.get $to))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $row (i32.lt_s (local.get $i) (local.get $end))))))
)
